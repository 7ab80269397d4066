"""Staging and prod run locally side by side, as `bulut up -k gitops/overlays/staging -k
gitops/overlays/prod` runs them: every Service Ready in shop-staging and shop-prod, and an
order goes through the whole saga in each namespace.

What makes them differ from dev is real here: orders keeps its state in PostgreSQL (the
overlay's ``orders-db.<namespace>.svc`` answered by the platform's embedded PostgreSQL, one
database per namespace), each namespace reads its own Vault paths with its own Transit key
(the role's policy from gitops/platform/vault/kubernetes-auth-roles.txt), and the cluster's
Knative gates come from the KnativeServing CR.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import pytest_asyncio

from bulut.local import LocalPlatform
from tests.support.platform import (
    assert_paid_through_the_saga,
    decided_order,
    is_ready,
    place_order,
    sample_app,
)
from tests.support.waiting import eventually

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.xdist_group("function-builds"),
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(600),
]

OVERLAYS = ("staging", "prod")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def platform(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path
) -> AsyncIterator[LocalPlatform]:
    async with sample_app(tmp_path_factory.mktemp("overlays"), repo_root, OVERLAYS) as local:
        yield local


@pytest.mark.parametrize("namespace", ["shop-staging", "shop-prod"])
async def test_an_order_is_reserved_paid_and_audited_in_each_namespace(
    platform: LocalPlatform, namespace: str
) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{platform.data_port}") as client:
        order_id = await place_order(client, "WIDGET-1", namespace=namespace)
        order = await decided_order(client, order_id, namespace)
    assert_paid_through_the_saga(order)


async def test_each_namespace_keeps_its_orders_in_its_own_postgresql_database(
    platform: LocalPlatform,
) -> None:
    """The order of each namespace is a row of that namespace's database only."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{platform.data_port}") as client:
        staging = await place_order(client, "WIDGET-1", namespace="shop-staging")
        prod = await place_order(client, "WIDGET-1", namespace="shop-prod")
    databases = platform.databases
    assert databases is not None
    rows: dict[str, set[str]] = {}
    for namespace in ("shop-staging", "shop-prod"):
        url = databases.url_of(namespace, "orders-db", "orders")
        assert url is not None, f"no local database for orders-db.{namespace}"
        with psycopg.connect(url) as connection:
            found = connection.execute("SELECT id FROM orders").fetchall()
        rows[namespace] = {str(row[0]) for row in found}
    assert staging in rows["shop-staging"] and staging not in rows["shop-prod"], rows
    assert prod in rows["shop-prod"] and prod not in rows["shop-staging"], rows


async def test_the_shop_s_service_changes_reach_audit_through_the_apiserversource(
    platform: LocalPlatform,
) -> None:
    """gitops/bases/functions/audit/apiserversource.yaml: a change to a shop Service is an
    event that audit accepts (the adapter counts only 2xx answers as sent)."""
    watching = await platform.control.get("ApiServerSource", "shop-prod", "shop-changes")
    assert is_ready(watching), watching.get("status")
    sources = platform.eventing.apiservers
    before = sources.sent
    orders = await platform.control.get("Service", "shop-prod", "orders")
    orders["metadata"].setdefault("annotations", {})["shop.example.com/audited"] = "yes"
    await platform.control.apply([orders])
    await eventually(lambda: sources.sent > before, "audit to accept the ref.update event")
    assert sources.dropped == 0


async def test_the_shop_s_public_host_reaches_orders_through_its_domainmapping(
    platform: LocalPlatform,
) -> None:
    """gitops/overlays/prod/domainmapping.yaml, its claim auto-created as OpenShift
    Serverless creates it (the KnativeServing CR's config-network)."""
    mapping = await eventually(
        lambda: _ready_mapping(platform, "shop-prod", "shop.example.com"), "the mapping Ready"
    )
    claim = await platform.control.get("ClusterDomainClaim", "", "shop.example.com")
    assert claim["spec"] == {"namespace": "shop-prod"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{platform.data_port}") as client:
        response = await client.get("/orders/none", headers={"host": "shop.example.com"})
    assert mapping["status"]["url"] == f"http://shop.example.com:{platform.data_port}"
    assert response.json() == {"detail": "order none not found"}  # orders itself answered


async def _ready_mapping(
    platform: LocalPlatform, namespace: str, name: str
) -> dict[str, Any] | None:
    found = await platform.control.get("DomainMapping", namespace, name)
    return found if is_ready(found) else None
