"""API machinery on the wire, as kube-apiserver behaves: bodies, dry runs, lists, watches,
/status, finalizers, owner references, Tables and discovery."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulut.settings import Settings
from tests.support.controlplane import serve
from tests.support.network import free_port

pytestmark = pytest.mark.integration
ROOT = "/apis/serving.knative.dev/v1"
MERGE = {"Content-Type": "application/merge-patch+json"}
TABLE = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    state = tmp_path_factory.mktemp("state")
    settings = Settings(state_dir=state, functions_dir=state, control_port=free_port())
    with serve(settings) as url, httpx.Client(base_url=url, timeout=20) as client:
        yield client


def ksvc(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": labels},
        "spec": {"template": {"spec": {"containers": [{"image": "hello"}]}}},
    }


def services(namespace: str) -> str:
    return f"{ROOT}/namespaces/{namespace}/services"


def test_a_body_without_content_type_is_json_and_yaml_is_accepted(http: httpx.Client) -> None:
    plain = http.post(services("bodies"), content=json.dumps(ksvc("plain")).encode())
    assert plain.status_code == 201, plain.text
    as_yaml = "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: yml}\n"
    as_yaml += "spec: {template: {spec: {containers: [{image: hello}]}}}\n"
    created = http.post(
        services("bodies"), content=as_yaml, headers={"Content-Type": "application/yaml"}
    )
    assert created.status_code == 201, created.text
    refused = http.post(services("bodies"), content=b"x", headers={"Content-Type": "text/csv"})
    assert (refused.status_code, refused.json()["reason"]) == (415, "UnsupportedMediaType")


def test_dry_run_on_every_verb_persists_nothing(http: httpx.Client) -> None:
    dry = {"dryRun": "All"}
    created = http.post(services("dry"), json=ksvc("x"), params=dry)
    assert created.status_code == 201 and "resourceVersion" not in created.json()["metadata"]
    assert http.get(f"{services('dry')}/x").status_code == 404
    http.post(services("dry"), json=ksvc("x"))
    before = http.get(f"{services('dry')}/x").json()
    patch = {"metadata": {"labels": {"a": "b"}}}
    patched = http.patch(f"{services('dry')}/x", json=patch, headers=MERGE, params=dry)
    assert patched.json()["metadata"]["labels"] == {"a": "b"}
    replaced = http.put(f"{services('dry')}/x", json={**before, **patch}, params=dry)
    assert replaced.status_code == 200
    deleted = http.request("DELETE", f"{services('dry')}/x", json={"dryRun": ["All"]})
    assert deleted.status_code == 200
    assert http.get(f"{services('dry')}/x").json() == before
    wrong = http.post(services("dry"), json=ksvc("y"), params={"dryRun": "Some"})
    assert wrong.status_code == 422


def test_watch_resumes_from_a_version_and_ends_after_timeout(http: httpx.Client) -> None:
    http.post(services("watch"), json=ksvc("a"))
    version = http.get(services("watch")).json()["metadata"]["resourceVersion"]
    http.patch(f"{services('watch')}/a", json={"metadata": {"labels": {"n": "1"}}}, headers=MERGE)
    http.post(services("watch"), json=ksvc("b"))
    params = {"watch": "1", "resourceVersion": version, "timeoutSeconds": "1"}
    with http.stream("GET", services("watch"), params=params) as stream:
        events = [json.loads(line) for line in stream.iter_lines() if line]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("MODIFIED", "a"),
        ("ADDED", "b"),
    ]
    assert int(events[-1]["object"]["metadata"]["resourceVersion"]) > int(version)


def test_a_watch_from_before_a_restart_is_gone_and_lists_keep_counting(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, functions_dir=tmp_path, control_port=free_port())
    with serve(settings) as url:
        httpx.post(f"{url}{services('gone')}", json=ksvc("a"))
        old = httpx.get(f"{url}{services('gone')}").json()["metadata"]["resourceVersion"]
    with serve(settings) as url:
        listed = httpx.get(f"{url}{services('gone')}").json()
        assert int(listed["metadata"]["resourceVersion"]) >= int(old)
        params = {"watch": "true", "resourceVersion": str(int(old) - 1)}
        answer = httpx.get(f"{url}{services('gone')}", params=params)
    assert answer.status_code == 410
    assert answer.json()["reason"] == "Expired"
    assert answer.json()["message"].startswith(f"too old resource version: {int(old) - 1} (")


def test_send_initial_events_ends_with_the_initial_events_bookmark(http: httpx.Client) -> None:
    http.post(services("initial"), json=ksvc("a"))
    params = {
        "watch": "1",
        "sendInitialEvents": "true",
        "resourceVersionMatch": "NotOlderThan",
        "allowWatchBookmarks": "true",
        "fieldSelector": "metadata.name=a",
        "timeoutSeconds": "1",
    }
    with http.stream("GET", services("initial"), params=params) as stream:
        events = [json.loads(line) for line in stream.iter_lines() if line]
    assert events[0]["type"] == "ADDED" and events[0]["object"]["metadata"]["name"] == "a"
    assert events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_deletecollection_deletes_what_the_selector_matches(http: httpx.Client) -> None:
    for name, tier in (("a", "x"), ("b", "x"), ("c", "y")):
        http.post(services("bulk"), json=ksvc(name, tier=tier))
    deleted = http.request("DELETE", services("bulk"), params={"labelSelector": "tier=x"})
    assert deleted.status_code == 200
    assert [i["metadata"]["name"] for i in deleted.json()["items"]] == ["a", "b"]
    left = http.get(services("bulk")).json()["items"]
    assert [i["metadata"]["name"] for i in left] == ["c"]


def test_status_and_spec_are_written_apart_and_generation_follows_the_spec(
    http: httpx.Client,
) -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}
    http.post("/api/v1/namespaces/status/configmaps", json=config)
    assert http.get("/api/v1/namespaces/status/configmaps/c/status").status_code == 404
    http.post(services("status"), json=ksvc("a"))
    item = f"{services('status')}/a"
    http.patch(item, json={"metadata": {"labels": {"x": "y"}}}, headers=MERGE)
    assert http.get(item).json()["metadata"]["generation"] == 1
    ignored = http.patch(item, json={"status": {"url": "http://elsewhere"}}, headers=MERGE)
    assert ignored.json()["status"]["url"] == "http://a.status.localhost:8080"
    status = http.get(f"{item}/status").json()
    assert status["kind"] == "Service" and "conditions" in status["status"]
    spec = {"spec": {"template": {"spec": {"containerConcurrency": 1}}}}
    assert http.patch(item, json=spec, headers=MERGE).json()["metadata"]["generation"] == 2


def test_finalizers_hold_a_deletion_until_they_are_removed(http: httpx.Client) -> None:
    held = ksvc("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    http.post(services("final"), json=held)
    first = http.delete(f"{services('final')}/held")
    assert first.status_code == 200
    assert first.json()["metadata"]["deletionTimestamp"]
    assert http.get(f"{services('final')}/held").status_code == 200
    adding = {"metadata": {"finalizers": ["example.com/hold", "another"]}}
    refused = http.patch(f"{services('final')}/held", json=adding, headers=MERGE)
    assert refused.status_code == 422
    released = http.patch(
        f"{services('final')}/held", json={"metadata": {"finalizers": None}}, headers=MERGE
    )
    assert released.status_code == 200
    assert http.get(f"{services('final')}/held").status_code == 404


def test_dependents_of_a_deleted_owner_are_collected(http: httpx.Client) -> None:
    owner = http.post(services("gc"), json=ksvc("owner")).json()
    reference = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "name": "owner",
        "uid": owner["metadata"]["uid"],
    }
    dependent = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "dep", "ownerReferences": [reference]},
    }
    assert http.post("/api/v1/namespaces/gc/configmaps", json=dependent).status_code == 201
    http.request("DELETE", f"{services('gc')}/owner", json={"propagationPolicy": "Background"})
    assert http.get("/api/v1/namespaces/gc/configmaps/dep").status_code == 404


def test_tables_carry_the_printer_columns_and_partial_metadata(http: httpx.Client) -> None:
    http.post(services("tables"), json=ksvc("a"))
    table = http.get(services("tables"), headers=TABLE).json()
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name",
        "URL",
        "LatestCreated",
        "LatestReady",
        "Ready",
        "Reason",
    ]
    row = table["rows"][0]
    assert row["cells"][:3] == ["a", "http://a.tables.localhost:8080", "a-00001"]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    full = http.get(services("tables"), headers=TABLE, params={"includeObject": "Object"}).json()
    assert full["rows"][0]["object"]["spec"]["template"]["spec"]["containers"]


def test_strategic_merge_is_refused_for_custom_resources_only(http: httpx.Client) -> None:
    http.post(services("smp"), json=ksvc("a"))
    smp = {"Content-Type": "application/strategic-merge-patch+json"}
    refused = http.patch(f"{services('smp')}/a", json={"metadata": {}}, headers=smp)
    assert refused.status_code == 415
    assert refused.json()["message"].endswith(
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    )
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"a": "1"},
    }
    http.post("/api/v1/namespaces/smp/configmaps", json=config)
    patched = http.patch(
        "/api/v1/namespaces/smp/configmaps/c",
        json={"$setElementOrder/data": [], "data": {"b": "2"}},
        headers=smp,
    )
    assert patched.json()["data"] == {"a": "1", "b": "2"}


def test_discovery_answers_aggregated_when_asked(http: httpx.Client) -> None:
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    answer = http.get("/apis", headers={"Accept": accept})
    assert answer.headers["content-type"] == (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    )
    groups = {item["metadata"]["name"]: item for item in answer.json()["items"]}
    serving = groups["serving.knative.dev"]["versions"][0]["resources"]
    services_entry = next(r for r in serving if r["resource"] == "services")
    assert services_entry["shortNames"] == ["kservice", "ksvc"]
    assert services_entry["subresources"][0]["subresource"] == "status"
    legacy = http.get("/apis").json()
    assert legacy["kind"] == "APIGroupList"
    assert http.get("/openapi/v2").status_code == 404
