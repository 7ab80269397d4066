"""bulut.manifests.policy: restricted-v2 and resources on every pod template."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bulut.manifests import policy

SECURE_CONTAINER: dict[str, Any] = {
    "name": "user-container",
    "image": "registry.example.com/shop/orders",
    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "64Mi"}},
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}


def ksvc(container: dict[str, Any] | None = None, **pod: Any) -> dict[str, Any]:
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": "orders", "namespace": "shop-dev"},
        "spec": {
            "template": {
                "metadata": {"annotations": {"a": "b"}},
                "spec": {
                    "containerConcurrency": 1,
                    "containers": [container or copy.deepcopy(SECURE_CONTAINER)],
                    **pod,
                },
            }
        },
    }


def paths(document: dict[str, Any]) -> set[str]:
    return {violation.path for violation in policy.check_document(document)}


def test_a_restricted_knative_service_passes() -> None:
    assert policy.check_document(ksvc()) == []


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("runAsNonRoot", False, "runAsNonRoot"),
        ("allowPrivilegeEscalation", True, "allowPrivilegeEscalation"),
        ("capabilities", {"drop": ["NET_RAW"]}, "capabilities.drop"),
        ("capabilities", {"drop": ["ALL"], "add": ["SYS_ADMIN"]}, "capabilities.add"),
        ("seccompProfile", {"type": "Unconfined"}, "seccompProfile.type"),
        ("runAsUser", 1000, "runAsUser"),
        ("privileged", True, "privileged"),
    ],
)
def test_each_restricted_v2_rule_is_checked_on_the_knative_template(
    field: str, value: Any, path: str
) -> None:
    container = copy.deepcopy(SECURE_CONTAINER)
    container["securityContext"][field] = value
    assert paths(ksvc(container)) == {f"spec.template.spec.containers[0].securityContext.{path}"}


def test_net_bind_service_may_be_added() -> None:
    container = copy.deepcopy(SECURE_CONTAINER)
    container["securityContext"]["capabilities"]["add"] = ["NET_BIND_SERVICE"]
    assert policy.check_document(ksvc(container)) == []


def test_missing_resources_are_reported() -> None:
    container = copy.deepcopy(SECURE_CONTAINER)
    del container["resources"]
    assert paths(ksvc(container)) == {
        "spec.template.spec.containers[0].resources.requests.cpu",
        "spec.template.spec.containers[0].resources.requests.memory",
        "spec.template.spec.containers[0].resources.limits.memory",
    }


def test_pod_level_seccomp_and_non_root_count() -> None:
    container = copy.deepcopy(SECURE_CONTAINER)
    del container["securityContext"]["seccompProfile"]
    del container["securityContext"]["runAsNonRoot"]
    pod_security = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert policy.check_document(ksvc(container, securityContext=pod_security)) == []


def test_host_namespaces_and_host_path_volumes_are_refused() -> None:
    document = ksvc(hostPID=True, volumes=[{"name": "h", "hostPath": {"path": "/"}}])
    assert paths(document) == {
        "spec.template.spec.hostPID",
        "spec.template.spec.volumes[0].hostPath",
    }


def test_init_containers_are_checked_too() -> None:
    document = ksvc(initContainers=[{"name": "init", "image": "x"}])
    assert any(path.startswith("spec.template.spec.initContainers[0]") for path in paths(document))


def test_a_cronjob_template_is_found_at_its_own_path() -> None:
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "c"},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{}]}}}}},
    }
    assert all(
        path.startswith("spec.jobTemplate.spec.template.spec.containers[0]")
        for path in paths(cronjob)
    )


def test_a_core_service_is_not_mistaken_for_a_knative_service() -> None:
    core = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {}}
    assert policy.check_document(core) == []


def test_kinds_without_pods_have_no_violations() -> None:
    assert policy.check_document({"apiVersion": "v1", "kind": "ConfigMap"}) == []


def test_a_pod_spec_without_containers_is_a_violation() -> None:
    document = ksvc()
    document["spec"]["template"]["spec"]["containers"] = []
    assert paths(document) == {"spec.template.spec.containers"}


def test_violations_read_as_path_and_rule() -> None:
    assert str(policy.Violation("a.b", "must be true")) == "a.b: must be true"


def test_a_knative_service_becomes_a_deployment_view_for_scanners() -> None:
    view = policy.as_deployment(ksvc())
    assert view is not None
    assert view["kind"] == "Deployment"
    assert view["metadata"]["namespace"] == "shop-dev"
    spec = view["spec"]["template"]["spec"]
    assert "containerConcurrency" not in spec
    assert spec["containers"][0]["name"] == "user-container"
    assert view["spec"]["selector"]["matchLabels"] == view["spec"]["template"]["metadata"]["labels"]


def test_only_knative_services_get_a_deployment_view() -> None:
    assert policy.as_deployment({"apiVersion": "v1", "kind": "Pod", "spec": {}}) is None
