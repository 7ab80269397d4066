"""A whole local platform (what `bulut up` runs) for tests, with or without the sample app.

``local_settings`` are Settings for a platform in ``tmp_path`` on ephemeral ports with no
Vault policies or seed unless given; ``running_platform`` starts one and always closes it;
``sample_app`` applies gitops/overlays/dev (or the overlays it is given, side by side) and
waits until every Service of each overlay's namespace is Ready (builds are cached in the
repository's .bulut/test-builds).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from bulut.local import LocalPlatform
from bulut.settings import Settings
from tests.support.waiting import eventually

NAMESPACE = "shop-dev"
ORDERS_HOST = {"host": f"orders.{NAMESPACE}.localhost"}
OVERLAY_NAMESPACES = {"dev": "shop-dev", "staging": "shop-staging", "prod": "shop-prod"}
READY_WITHIN = 240.0


def condition(resource: dict[str, Any], kind: str) -> dict[str, Any]:
    """The condition of type ``kind`` in a resource's status (empty when absent)."""
    for found in resource.get("status", {}).get("conditions", []):
        if found.get("type") == kind:
            return dict(found)
    return {}


def is_ready(resource: dict[str, Any]) -> bool:
    """True when the resource's Ready condition is True."""
    return condition(resource, "Ready").get("status") == "True"


def local_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """A platform in ``tmp_path/state`` on ephemeral ports; no Vault policies or seed."""
    values: dict[str, Any] = {
        "state_dir": tmp_path / "state",
        "data_port": 0,
        "control_port": 0,
        "vault_policies_dir": tmp_path / "no-policies",
        "vault_seed": tmp_path / "no-seed.yaml",
        **overrides,
    }
    return Settings(**values)


@asynccontextmanager
async def running_platform(settings: Settings, **options: Any) -> AsyncIterator[LocalPlatform]:
    """A started LocalPlatform, closed on the way out."""
    local = LocalPlatform(settings, **options)
    try:
        await local.start()
        yield local
    finally:
        await local.aclose()


@asynccontextmanager
async def sample_app(
    tmp_path: Path, repo_root: Path, overlays: tuple[str, ...] = ("dev",), **overrides: Any
) -> AsyncIterator[LocalPlatform]:
    """A platform with gitops/overlays/<each> applied (as `bulut up -k ... -k ...`) and every
    Service of their namespaces Ready (builds cached); ``overrides`` are more Settings (auth,
    for one)."""
    vault = repo_root / "gitops" / "platform" / "vault"
    settings = local_settings(
        tmp_path,
        builds_dir=repo_root / ".bulut" / "test-builds",
        functions_dir=repo_root / "functions",
        vault_policies_dir=vault / "policies",
        vault_seed=vault / "dev-seed.yaml",
        **overrides,
    )
    paths = [repo_root / "gitops" / "overlays" / overlay for overlay in overlays]
    namespaces = [OVERLAY_NAMESPACES[overlay] for overlay in overlays]
    async with running_platform(settings) as local:
        await local.apply_paths(paths, kustomize=True)

        async def all_ready() -> list[dict[str, Any]]:
            services = [s for ns in namespaces for s in await local.control.list("Service", ns)]
            return services if services and all(is_ready(s) for s in services) else []

        await eventually(
            all_ready, f"every Service in {', '.join(namespaces)} to be Ready", timeout=READY_WITHIN
        )
        yield local


async def decided_order(
    client: httpx.AsyncClient, order_id: str, namespace: str = NAMESPACE
) -> dict[str, Any]:
    """The sample app's order once its saga decided it (no longer pending or reserved)."""

    async def decided() -> dict[str, Any] | None:
        response = await client.get(
            f"/orders/{order_id}", headers={"host": f"orders.{namespace}.localhost"}
        )
        order: dict[str, Any] = response.json()
        return order if order.get("status") not in (None, "pending", "reserved") else None

    return await eventually(decided, f"order {order_id} to be decided", timeout=60, interval=0.2)


async def place_order(
    client: httpx.AsyncClient, sku: str, card: str = "tok_ok", namespace: str = NAMESPACE
) -> str:
    """POST an order for one ``sku`` to the sample app's orders in ``namespace``; its id."""
    response = await client.post(
        "/orders",
        headers={"host": f"orders.{namespace}.localhost"},
        json={
            "customer": "ada",
            "email": "ada@example.com",
            "card_token": card,
            "items": [{"sku": sku, "quantity": 1}],
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def assert_paid_through_the_saga(order: dict[str, Any]) -> None:
    """The order was created, reserved and paid, in that order of events."""
    assert order["status"] == "paid", order
    seen = [step["type"] for step in order["history"]]
    assert seen[0] == "com.example.order.created"
    assert "com.example.inventory.reserved" in seen
    assert "com.example.payment.authorized" in seen
