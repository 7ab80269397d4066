"""Defect 8 of issue #15: the local webhook applies Knative's config-features gates and
config-defaults limits, read from the ConfigMaps the platform stores (knative-serving).

Before, a Service with ``spec.template.spec.nodeSelector`` was stored although Knative's
``kubernetes.podspec-nodeselector`` gate is off by default.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bulut.controlplane.plane import ControlPlane
from bulut.errors import InvalidResourceError
from bulut.manifests.knative.config import configmaps_from_knativeserving

SERVICE: dict[str, Any] = {
    "apiVersion": "serving.knative.dev/v1",
    "kind": "Service",
    "metadata": {"name": "orders", "namespace": "shop"},
    "spec": {
        "template": {
            "spec": {
                "nodeSelector": {"disk": "ssd"},
                "containers": [{"image": "registry.example.com/shop/orders"}],
            }
        }
    },
}


def configmap(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "knative-serving"},
        "data": data,
    }


@pytest.fixture
def control(local_control_plane: ControlPlane) -> ControlPlane:
    return local_control_plane


async def test_a_gated_field_is_refused_while_its_gate_is_off(control: ControlPlane) -> None:
    with pytest.raises(InvalidResourceError) as refused:
        await control.apply([SERVICE])
    assert refused.value.field == "documents[0].spec.template.spec.nodeSelector"
    assert "must not set the field(s)" in refused.value.message


async def test_the_stored_config_features_opens_the_gate(control: ControlPlane) -> None:
    gate = configmap("config-features", {"kubernetes.podspec-nodeselector": "enabled"})
    results = await control.apply([gate, SERVICE])
    assert [r.action for r in results] == ["created", "created"]


async def test_the_stored_config_defaults_bounds_the_timeout(control: ControlPlane) -> None:
    await control.apply([configmap("config-defaults", {"max-revision-timeout-seconds": "900"})])
    service = copy.deepcopy(SERVICE)
    spec = service["spec"]["template"]["spec"]
    del spec["nodeSelector"]
    spec["timeoutSeconds"] = 800  # over Knative's 600, under this platform's 900
    await control.apply([service])
    spec["timeoutSeconds"] = 901
    with pytest.raises(InvalidResourceError, match=r"expected 0 <= 901 <= 900"):
        await control.apply([service])


async def test_a_contradictory_config_defaults_is_refused_naming_its_key(
    control: ControlPlane,
) -> None:
    with pytest.raises(InvalidResourceError) as refused:
        await control.apply([configmap("config-defaults", {"revision-timeout-seconds": "700"})])
    assert refused.value.field == "documents[0].data.revision-timeout-seconds"


async def test_the_knativeserving_cr_of_the_cluster_becomes_the_local_configmaps(
    control: ControlPlane,
) -> None:
    resource = {
        "kind": "KnativeServing",
        "spec": {"config": {"features": {"kubernetes.podspec-nodeselector": "enabled"}}},
    }
    await control.apply([*configmaps_from_knativeserving(resource), SERVICE])
    stored = await control.get("Service", "shop", "orders")
    assert stored["spec"]["template"]["spec"]["nodeSelector"] == {"disk": "ssd"}
