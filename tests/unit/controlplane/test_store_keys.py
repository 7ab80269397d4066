"""Kinds that share a name (core v1 Service and Knative's, OpenShift's Route and Knative's, OLM's
Subscription and Eventing's) are stored side by side under group-qualified keys."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path
from typing import Any, cast

import httpx

from bulut.controlplane import ControlPlane
from bulut.manifests.feed import ResourceEvent
from bulut.settings import Settings

KNATIVE_SERVICE: dict[str, Any] = {
    "apiVersion": "serving.knative.dev/v1",
    "kind": "Service",
    "metadata": {"name": "orders", "namespace": "shop"},
    "spec": {"template": {"spec": {"containers": [{"image": "orders"}]}}},
}
CORE_SERVICE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "orders", "namespace": "shop"},
    "spec": {"selector": {"app": "orders"}, "ports": [{"port": 80, "targetPort": 8080}]},
}
OPENSHIFT_ROUTE: dict[str, Any] = {
    "apiVersion": "route.openshift.io/v1",
    "kind": "Route",
    "metadata": {"name": "orders", "namespace": "shop"},
    "spec": {"to": {"kind": "Service", "name": "orders"}},
}
OLM_SUBSCRIPTION: dict[str, Any] = {
    "apiVersion": "operators.coreos.com/v1alpha1",
    "kind": "Subscription",
    "metadata": {"name": "orders", "namespace": "shop"},
    "spec": {"name": "orders", "source": "catalog", "sourceNamespace": "openshift-marketplace"},
}


def api(control: ControlPlane) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=control.app), base_url="http://cp")


def condition(resource: dict[str, Any]) -> tuple[str, str]:
    ready = next(c for c in resource["status"]["conditions"] if c["type"] == "Ready")
    return (ready["status"], ready.get("reason", ""))


async def test_same_named_kinds_of_two_groups_are_stored_side_by_side(
    control: ControlPlane,
) -> None:
    documents = [KNATIVE_SERVICE, CORE_SERVICE, OPENSHIFT_ROUTE, OLM_SUBSCRIPTION]
    results = await control.apply(documents)
    assert [(r.qualified, r.action) for r in results] == [
        ("service.serving.knative.dev/orders", "created"),
        ("service/orders", "created"),
        ("route.route.openshift.io/orders", "created"),
        ("subscription.operators.coreos.com/orders", "created"),
    ]
    async with api(control) as http:
        core = (await http.get("/api/v1/namespaces/shop/services/orders")).json()
        knative = await http.get("/apis/serving.knative.dev/v1/namespaces/shop/services/orders")
        route = (await http.get("/apis/route.openshift.io/v1/namespaces/shop/routes/orders")).json()
        knative_route = await http.get("/apis/serving.knative.dev/v1/namespaces/shop/routes/orders")
        listed = (await http.get("/api/v1/namespaces/shop/services")).json()
    assert core["spec"]["ports"] == [{"port": 80, "targetPort": 8080}]
    assert condition(core) == ("Unknown", "NotReconciledLocally")
    assert knative.json()["spec"]["template"]["spec"]["containers"][0]["image"] == "orders"
    assert condition(route) == ("Unknown", "NotReconciledLocally")
    # Knative's own Route for the ksvc is reconciled beside OpenShift's, not replaced by it
    assert knative_route.json()["metadata"]["ownerReferences"][0]["kind"] == "Service"
    assert [(i["apiVersion"], i["metadata"]["name"]) for i in listed["items"]] == [("v1", "orders")]
    assert [s["apiVersion"] for s in await control.list("subscriptions.operators.coreos.com")] == [
        "operators.coreos.com/v1alpha1"
    ]
    assert await control.list("subscriptions", "shop") == []  # Eventing's: none


async def test_deleting_the_core_service_leaves_the_knative_one(control: ControlPlane) -> None:
    await control.apply([KNATIVE_SERVICE, CORE_SERVICE])
    await control.delete("svc", "shop", "orders")
    assert [s["apiVersion"] for s in await control.list("services", "shop")] == [
        "serving.knative.dev/v1"
    ]
    assert await control.list("svc", "shop") == []


async def next_event(events: AsyncIterator[ResourceEvent]) -> ResourceEvent:
    return await asyncio.wait_for(anext(events), timeout=5)


async def test_a_watch_of_one_group_s_kind_sees_only_that_group(control: ControlPlane) -> None:
    await control.apply([CORE_SERVICE])
    knative = cast(AsyncGenerator[ResourceEvent], control.watch(frozenset({"Service"})))
    core = cast(AsyncGenerator[ResourceEvent], control.watch(frozenset({"svc"})))
    first = await next_event(core)
    assert (first["type"], first["object"]["apiVersion"]) == ("ADDED", "v1")
    await control.apply([KNATIVE_SERVICE])
    added = await next_event(knative)
    assert (added["type"], added["object"]["apiVersion"]) == ("ADDED", "serving.knative.dev/v1")
    await knative.aclose()
    await core.aclose()


def write_store_as_an_older_version(state_dir: Path) -> None:
    """The resources table as earlier versions wrote it: records filed under the bare kind."""
    rows = [
        ("Service", "shop", KNATIVE_SERVICE, 1),
        (
            "Route",
            "shop",
            {**OPENSHIFT_ROUTE, "metadata": {"name": "edge", "namespace": "shop"}},
            2,
        ),
    ]
    with sqlite3.connect(state_dir / "bulut.db") as db:
        db.execute(
            "CREATE TABLE resources (id INTEGER PRIMARY KEY, kind VARCHAR(64) NOT NULL, "
            "namespace VARCHAR(63) NOT NULL, name VARCHAR(253) NOT NULL, uid VARCHAR(64) NOT NULL,"
            " resource_version INTEGER NOT NULL, body JSON NOT NULL, "
            "CONSTRAINT uq_resource_key UNIQUE (kind, namespace, name))"
        )
        for kind, namespace, body, version in rows:
            stored = {**body, "metadata": {**body["metadata"], "uid": f"u{version}"}}
            db.execute(
                "INSERT INTO resources (kind, namespace, name, uid, resource_version, body) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    kind,
                    namespace,
                    body["metadata"]["name"],
                    f"u{version}",
                    version,
                    json.dumps(stored),
                ),
            )


async def test_a_store_an_older_version_wrote_loads_and_its_records_are_refiled(
    tmp_path: Path,
) -> None:
    settings = Settings(state_dir=tmp_path, functions_dir=tmp_path)
    assert settings.resolved_database_url.endswith(str(tmp_path / "bulut.db"))
    write_store_as_an_older_version(tmp_path)
    control = ControlPlane(settings, check_images=False)
    await control.start()
    try:
        assert [s["metadata"]["name"] for s in await control.list("ksvc", "shop")] == ["orders"]
        assert [r["metadata"]["name"] for r in await control.list("routes.route.openshift.io")] == [
            "edge"
        ]
        assert await control.list("routes", "shop") != []  # Knative's, reconciled for the ksvc
        await control.apply([CORE_SERVICE])
        assert len(await control.list("svc", "shop")) == 1
    finally:
        await control.aclose()
    with sqlite3.connect(tmp_path / "bulut.db") as db:
        keys = sorted(db.execute("SELECT kind, name FROM resources WHERE namespace = 'shop'"))
    assert ("Route.route.openshift.io", "edge") in keys
    assert ("Service.core", "orders") in keys and ("Service", "orders") in keys
