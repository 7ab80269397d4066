"""EventPolicy: webhook rules and ``status.from``; a ContainerSource's identity and audience."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.errors import InvalidResourceError
from tests.unit.controlplane.factories import Namespace, resource

BROKER_REF = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}


def policy(name: str = "only-poster", **spec: object) -> dict[str, Any]:
    body: dict[str, Any] = {"to": [{"ref": BROKER_REF}], "from": [{"sub": "system:x"}]}
    return resource("eventing.knative.dev/v1alpha1", "EventPolicy", name, {**body, **spec})


def rejected(document: dict[str, Any]) -> str:
    with pytest.raises(InvalidResourceError) as caught:
        Namespace().apply(document)
    return str(caught.value.field)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"from": []}, "spec.from"),
        ({"from": [{"sub": "a", "ref": BROKER_REF}]}, "spec.from[0]"),
        ({"from": [{"ref": {"kind": "PingSource", "name": "p"}}]}, "spec.from[0].ref.apiVersion"),
        ({"from": [{"sub": "system:*:x"}]}, "spec.from[0].sub"),
        ({"to": [{}]}, "spec.to[0]"),
        ({"to": [{"selector": {"matchLabels": {"a": "b"}}}]}, "spec.to[0].selector.apiVersion"),
        ({"filters": [{"exact": {"type": "t"}}]}, "spec.filters"),
    ],
)
def test_a_malformed_eventpolicy_is_rejected_naming_the_field(
    spec: dict[str, Any], field: str
) -> None:
    assert rejected(policy(**spec)) == field


def test_status_from_resolves_subjects_and_sender_references() -> None:
    senders: list[dict[str, Any]] = [
        {"sub": "system:serviceaccount:default:trusted-*"},
        {"ref": {"apiVersion": "sources.knative.dev/v1", "kind": "PingSource", "name": "tick"}},
        {
            "ref": {
                "apiVersion": "sources.knative.dev/v1",
                "kind": "ContainerSource",
                "name": "beat",
            }
        },
    ]
    beat = resource(
        "sources.knative.dev/v1",
        "ContainerSource",
        "beat",
        {
            "template": {"spec": {"containers": [{"image": "heartbeats"}]}},
            "sink": {"ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                             "name": "default"}},
        },
    )  # fmt: skip
    broker = resource("eventing.knative.dev/v1", "Broker", "default", {})
    with_senders = policy()
    with_senders["spec"]["from"] = senders
    ns = Namespace(oidc=True).apply(broker, beat, with_senders)
    found = ns.objects[("EventPolicy", "only-poster")]["status"]
    assert found["from"] == [
        "system:serviceaccount:default:trusted-*",
        "system:serviceaccount:default:tick-oidc-sources.knative.dev-pingsource",
        "system:serviceaccount:default:beat-sinkbinding-oidc-sources.knative.dev-sinkbinding",
    ]
    ready = {c["type"]: c["status"] for c in found["conditions"]}
    assert ready == {"SubjectsResolved": "True", "Ready": "True"}
    source = ns.objects[("ContainerSource", "beat")]["status"]
    assert source["sinkAudience"] == "eventing.knative.dev/broker/default/default"
    assert source["auth"] == {
        "serviceAccountName": "beat-sinkbinding-oidc-sources.knative.dev-sinkbinding"
    }
