"""ApiServerSource and ContainerSource: webhook rules, defaults, children and conditions."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.controlplane.reconcilers.reports import apply_runtime_report
from bulut.errors import InvalidResourceError
from tests.unit.controlplane.factories import Namespace, resource

NOW = "2026-01-01T00:00:02Z"


def apiserversource(name: str = "watch", **spec: Any) -> dict[str, Any]:
    body = {"resources": [{"apiVersion": "v1", "kind": "ConfigMap"}], "sink": {"uri": "http://x/"}}
    return resource("sources.knative.dev/v1", "ApiServerSource", name, {**body, **spec})


def containersource(name: str = "beat", **spec: Any) -> dict[str, Any]:
    body = {
        "template": {"spec": {"containers": [{"image": "heartbeats"}]}},
        "sink": {"uri": "http://x/"},
    }
    return resource("sources.knative.dev/v1", "ContainerSource", name, {**body, **spec})


def rejected(document: dict[str, Any]) -> str:
    with pytest.raises(InvalidResourceError) as caught:
        Namespace().apply(document)
    return str(caught.value.field)


def test_an_apiserversource_defaults_to_reference_mode_and_the_default_account() -> None:
    spec = Namespace().apply(apiserversource())[("ApiServerSource", "watch")]["spec"]
    assert (spec["mode"], spec["serviceAccountName"]) == ("Reference", "default")


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"resources": []}, "spec.resources"),
        ({"mode": "reference"}, "spec.mode"),
        (
            {"resources": [{"apiVersion": "not a version", "kind": "Pod"}]},
            "spec.resources[0].apiVersion",
        ),
        ({"resources": [{"apiVersion": "v1", "kind": " "}]}, "spec.resources[0].kind"),
        ({"owner": {"apiVersion": "apps/v1"}}, "spec.owner.kind"),
        ({"ceOverrides": {"extensions": {"bad-key": "x"}}}, "spec.ceOverrides.extensions.bad-key"),
        ({"filters": [{"exact": {"type": "x"}}]}, "spec.filters"),
        ({"sink": {}}, "spec.sink.ref, spec.sink.uri"),
        (
            {"namespaceSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}},
            "spec.namespaceSelector.matchExpressions[0].values",
        ),
    ],
)
def test_an_invalid_apiserversource_is_rejected_naming_the_field(
    spec: dict[str, Any], field: str
) -> None:
    assert rejected(apiserversource(**spec)) == field


def test_an_apiserversource_is_not_ready_until_its_watch_runs_then_ready() -> None:
    ns = Namespace().apply(apiserversource())
    assert ns.condition("ApiServerSource", "watch", "Deployed")[:2] == (
        "Unknown",
        "DeploymentUnavailable",
    )
    assert ns.condition("ApiServerSource", "watch")[0] == "Unknown"
    key = ("ApiServerSource", "watch")
    running = {"conditions": [{"type": "Deployed", "status": "True"}], "namespaces": ["default"]}
    ns.objects[key] = apply_runtime_report("ApiServerSource", ns[key], running, now=NOW)
    ns.reconcile()
    status = ns.status("ApiServerSource", "watch")
    assert ns.condition("ApiServerSource", "watch")[0] == "True"
    assert status["sinkUri"] == "http://x/" and status["namespaces"] == ["default"]
    assert [a["type"] for a in status["ceAttributes"]] == [
        "dev.knative.apiserver.ref.add",
        "dev.knative.apiserver.ref.delete",
        "dev.knative.apiserver.ref.update",
    ]


def test_an_apiserversource_with_an_unknown_sink_says_the_sink_was_not_found() -> None:
    missing = {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "nope"}}
    ns = Namespace().apply(apiserversource(sink=missing))
    status, reason, message = ns.condition("ApiServerSource", "watch", "SinkProvided")
    assert (status, reason) == ("False", "NotFound") and "nope" in message
    assert ns.condition("ApiServerSource", "watch")[0] == "False"


def test_a_containersource_names_its_containers_and_binds_its_sink() -> None:
    ns = Namespace().apply(containersource())
    source = ns[("ContainerSource", "beat")]
    assert source["spec"]["template"]["spec"]["containers"][0]["name"] == "beat-0"
    binding = ns[("SinkBinding", "beat-sinkbinding")]
    assert binding["spec"]["subject"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "beat-deployment",
    }
    assert binding["metadata"]["ownerReferences"][0]["name"] == "beat"
    assert ns.condition("ContainerSource", "beat", "SinkBindingReady")[0] == "True"
    assert ns.status("ContainerSource", "beat")["sinkUri"] == "http://x/"
    assert ns.condition("ContainerSource", "beat", "ReceiveAdapterReady")[:2] == (
        "Unknown",
        "DeploymentUnavailable",
    )


def test_a_containersource_without_an_image_is_rejected() -> None:
    no_image = containersource(template={"spec": {"containers": [{"name": "x"}]}})
    assert rejected(no_image) == "spec.template.spec.containers[0].image"
    assert rejected(containersource(template={"spec": {"containers": []}})) == (
        "spec.template.spec.containers"
    )


def test_deleting_a_containersource_collects_its_sinkbinding() -> None:
    ns = Namespace().apply(containersource()).delete("ContainerSource", "beat")
    assert ns.names("SinkBinding") == []
