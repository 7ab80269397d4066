"""The official `kubernetes` Python client (DynamicClient, CustomObjectsApi, typed core API)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from bulut.settings import Settings
from tests.integration.test_controlplane_kubectl import write_kubeconfig
from tests.support.controlplane import serve
from tests.support.network import free_port

pytestmark = pytest.mark.integration
GROUP, VERSION = "serving.knative.dev", "v1"
# The client's generated types are partial; the tests read it dynamically, as users do.
k8s: Any = kubernetes
client, config, dynamic, watch = k8s.client, k8s.config, k8s.dynamic, k8s.watch
ConflictError = k8s.dynamic.exceptions.ConflictError
NotFoundError = k8s.dynamic.exceptions.NotFoundError


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    state = tmp_path_factory.mktemp("state")
    settings = Settings(state_dir=state, functions_dir=state, control_port=free_port())
    with serve(settings) as url:
        kubeconfig = state / "kubeconfig"
        write_kubeconfig(kubeconfig, url)
        with config.new_client_from_config(config_file=str(kubeconfig)) as api_client:
            yield api_client


def ksvc(name: str, image: str = "hello", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Service",
        "metadata": {"name": name, "labels": {"app": name, **labels}},
        "spec": {"template": {"spec": {"containers": [{"image": image}]}}},
    }


def test_dynamic_client_creates_patches_applies_and_deletes(api: Any) -> None:
    services = dynamic.DynamicClient(api).resources.get(
        api_version=f"{GROUP}/{VERSION}", kind="Service"
    )
    created = services.create(body=ksvc("hello"), namespace="dyn")
    assert created.metadata.generation == 1 and created.metadata.uid
    patched = services.patch(
        name="hello",
        namespace="dyn",
        body={"spec": {"template": {"spec": {"containerConcurrency": 2}}}},
        content_type="application/merge-patch+json",
    )
    assert patched.spec.template.spec.containerConcurrency == 2
    assert patched.metadata.generation == 2
    applied = services.server_side_apply(
        body=ksvc("hello", team="a"), name="hello", namespace="dyn", field_manager="python"
    )
    assert applied.metadata.labels["team"] == "a"
    with pytest.raises(ConflictError) as conflict:
        services.server_side_apply(
            body=ksvc("hello", image="other"), name="hello", namespace="dyn", field_manager="python"
        )
    assert conflict.value.status == 409
    listed = services.get(namespace="dyn", label_selector="team=a")
    assert [item.metadata.name for item in listed.items] == ["hello"]
    services.delete(name="hello", namespace="dyn")
    with pytest.raises(NotFoundError):
        services.get(name="hello", namespace="dyn")


def test_custom_objects_api_lists_pages_and_watches(api: Any) -> None:
    objects = client.CustomObjectsApi(api)
    for name in ("a", "b", "c"):
        objects.create_namespaced_custom_object(GROUP, VERSION, "paged", "services", ksvc(name))
    first = objects.list_namespaced_custom_object(GROUP, VERSION, "paged", "services", limit=2)
    assert [i["metadata"]["name"] for i in first["items"]] == ["a", "b"]
    token = first["metadata"]["continue"]
    rest = objects.list_namespaced_custom_object(
        GROUP, VERSION, "paged", "services", limit=2, _continue=token
    )
    assert [i["metadata"]["name"] for i in rest["items"]] == ["c"]
    assert rest["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    objects.patch_namespaced_custom_object(
        GROUP, VERSION, "paged", "services", "b", {"metadata": {"labels": {"seen": "yes"}}}
    )
    events = watch.Watch().stream(
        objects.list_namespaced_custom_object,
        GROUP,
        VERSION,
        "paged",
        "services",
        resource_version=first["metadata"]["resourceVersion"],
        timeout_seconds=2,
    )
    seen = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    assert seen == [("MODIFIED", "b")]


def test_typed_core_api_without_content_type_creates_namespaces_and_configmaps(
    api: Any,
) -> None:
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="typed")))
    assert core.read_namespace("typed").status.phase == "Active"
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cfg"), data={"a": "1"})
    core.create_namespaced_config_map("typed", body)
    core.patch_namespaced_config_map("cfg", "typed", {"data": {"b": "2"}})
    assert core.read_namespaced_config_map("cfg", "typed").data == {"a": "1", "b": "2"}
    names = [n.metadata.name for n in core.list_namespace().items]
    assert "typed" in names and "default" in names


def test_a_dry_run_delete_deletes_nothing(api: Any, tmp_path: Path) -> None:
    objects = client.CustomObjectsApi(api)
    objects.create_namespaced_custom_object(GROUP, VERSION, "dryrun", "services", ksvc("keep"))
    objects.delete_namespaced_custom_object(
        GROUP, VERSION, "dryrun", "services", "keep", dry_run="All"
    )
    kept = objects.get_namespaced_custom_object(GROUP, VERSION, "dryrun", "services", "keep")
    assert kept["metadata"]["name"] == "keep"


def test_cluster_only_kinds_list_with_their_not_reconciled_condition(api: Any) -> None:
    custom = client.CustomObjectsApi(api)
    schedule = {
        "apiVersion": "velero.io/v1",
        "kind": "Schedule",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 2 * * *", "template": {"includedNamespaces": ["shop"]}},
    }
    custom.create_namespaced_custom_object("velero.io", "v1", "backups-ns", "schedules", schedule)
    listed = custom.list_namespaced_custom_object("velero.io", "v1", "backups-ns", "schedules")
    (item,) = listed["items"]
    (condition,) = item["status"]["conditions"]
    assert (condition["type"], condition["status"], condition["reason"]) == (
        "Ready",
        "Unknown",
        "NotReconciledLocally",
    )
    roles = dynamic.DynamicClient(api).resources.get(
        api_version="rbac.authorization.k8s.io/v1", kind="Role"
    )
    roles.create(
        body={
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
        },
        namespace="backups-ns",
    )
    (role,) = roles.get(namespace="backups-ns").items
    assert role.rules[0].verbs == ["get"]
    assert role.status.conditions[0].reason == "NotReconciledLocally"
