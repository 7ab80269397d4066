"""SinkBinding subjects pick the revisions that get K_SINK and K_CE_OVERRIDES."""

from __future__ import annotations

from typing import Any

from bulut.serving.sinks import binds, sink_env


def a_revision(service: str = "orders", namespace: str = "default") -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"{service}-00001",
            "namespace": namespace,
            "labels": {"serving.knative.dev/service": service, "app": service},
        }
    }


def a_binding(subject: dict[str, Any], namespace: str = "default") -> dict[str, Any]:
    return {
        "metadata": {"name": "b", "namespace": namespace},
        "spec": {"subject": subject, "ceOverrides": {"extensions": {"team": "a"}}},
        "status": {"sinkUri": "http://broker"},
    }


def test_a_service_subject_binds_its_revisions() -> None:
    binding = a_binding({"kind": "Service", "name": "orders"})

    assert binds(binding, a_revision())
    assert not binds(binding, a_revision("billing"))


def test_a_selector_subject_binds_by_labels() -> None:
    binding = a_binding({"kind": "Service", "selector": {"matchLabels": {"app": "orders"}}})

    assert binds(binding, a_revision())


def test_bindings_only_reach_their_own_namespace() -> None:
    assert not binds(a_binding({"kind": "Service", "name": "orders"}), a_revision(namespace="x"))


def test_the_env_carries_the_sink_and_the_overrides() -> None:
    env = sink_env(a_revision(), [a_binding({"kind": "Service", "name": "orders"})])

    assert env == {"K_SINK": "http://broker", "K_CE_OVERRIDES": '{"extensions":{"team":"a"}}'}


def test_with_oidc_the_bindings_identity_and_the_sinks_audience_are_passed_on() -> None:
    """From the binding's status (the control plane writes it when authentication-oidc is on)."""
    binding = a_binding({"kind": "Service", "name": "orders"})
    assert "K_AUDIENCE" not in sink_env(a_revision(), [binding])
    binding["status"]["sinkAudience"] = "eventing.knative.dev/broker/default/default"
    binding["status"]["auth"] = {"serviceAccountName": "b-oidc-sources.knative.dev-sinkbinding"}
    env = sink_env(a_revision(), [binding])
    assert env["K_AUDIENCE"] == "eventing.knative.dev/broker/default/default"
    assert env["K_OIDC_SERVICE_ACCOUNT"] == "b-oidc-sources.knative.dev-sinkbinding"
