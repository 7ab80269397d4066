"""The sample app end to end on the local platform: one order through the whole saga.

This is what `make up` runs: the dev overlay applied through the control plane, functions
built into their own environments, events through the durable broker, payments reading its
provider key from OpenBao.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bulut.httpd import InProcessPool
from bulut.local import LocalPlatform
from tests.support.platform import (
    NAMESPACE,
    assert_paid_through_the_saga,
    decided_order,
    place_order,
    sample_app,
)
from tests.support.waiting import eventually

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.xdist_group("function-builds"),
    pytest.mark.asyncio(loop_scope="module"),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def platform(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path
) -> AsyncIterator[LocalPlatform]:
    """One sample app for the module: each test places its own orders and reads only its
    own events (the dead-letter list is empty whatever else ran: no path dead-letters)."""
    async with sample_app(tmp_path_factory.mktemp("order-flow"), repo_root) as local:
        yield local


async def test_an_order_is_reserved_paid_and_audited(platform: LocalPlatform) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{platform.data_port}") as client:
        order_id = await place_order(client, "WIDGET-1")
        order = await decided_order(client, order_id)
    assert_paid_through_the_saga(order)


async def _settled_deliveries(
    client: httpx.AsyncClient, event_ids: list[str], expected: set[str], timeout: float = 60
) -> dict[str, list[dict[str, Any]]]:
    """Each event's recorded deliveries once none is in flight and ``expected`` triggers
    (``ns/name``) all have an outcome: what `bulut events get ID` shows."""

    async def settled() -> dict[str, list[dict[str, Any]]] | None:
        found: dict[str, list[dict[str, Any]]] = {}
        busy = False
        for event_id in event_ids:
            response = await client.get(f"/eventing/events/{event_id}")
            assert response.status_code == 200, response.text
            for logged in response.json()["items"]:
                found.setdefault(event_id, []).extend(logged["deliveries"])
                busy = busy or bool(logged["inFlight"])
        finished = {d["trigger"] for deliveries in found.values() for d in deliveries}
        return found if not busy and expected <= finished else None

    return await eventually(settled, f"outcomes from {sorted(expected)}", timeout=timeout)


async def test_a_paid_order_settles_with_no_retry_and_no_dead_letter(
    platform: LocalPlatform,
) -> None:
    """Every delivery of the happy path succeeds at its first attempt, the notification
    of the payment included (a functions-framework function behind a Knative trigger)."""
    data_url = f"http://127.0.0.1:{platform.data_port}"
    control_url = f"http://127.0.0.1:{platform.control_port}"
    async with httpx.AsyncClient(base_url=data_url) as client:
        order_id = await place_order(client, "WIDGET-1")
        order = await decided_order(client, order_id)
    assert order["status"] == "paid", order
    event_ids = [step["id"] for step in order["history"]]
    notified = f"{NAMESPACE}/notifications-payment-authorized"
    async with httpx.AsyncClient(base_url=control_url) as control:
        deliveries = await _settled_deliveries(control, event_ids, {notified})
        dead = (await control.get("/eventing/dead-letters")).json()["items"]
    outcomes = [
        (event_id, d["trigger"], d["outcome"], d["attempts"], d["code"])
        for event_id, logged in deliveries.items()
        for d in logged
    ]
    assert notified in {trigger for _, trigger, *_ in outcomes}, outcomes
    assert dead == [], dead
    not_clean = [o for o in outcomes if o[2] not in ("delivered", "replied") or o[3] != 1]
    assert not_clean == [], not_clean


async def test_the_platform_records_the_recipe_of_each_environment_it_runs(
    platform: LocalPlatform,
) -> None:
    """Environments are a cache outside the state dir; which ones it runs is state."""
    recipes = platform.layout.recipes
    assert recipes.parent == platform.settings.state_dir
    assert not platform.layout.builds.is_relative_to(platform.settings.state_dir)
    recorded = {p.parent.name.rsplit("-", 1)[0] for p in recipes.glob("*/recipe.json")}
    assert {"orders", "inventory", "payments", "audit", "notifications"} <= recorded


async def test_a_declined_payment_cancels_the_order_and_releases_stock(
    platform: LocalPlatform,
) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{platform.data_port}") as client:
        order_id = await place_order(client, "DELUXE-9")
        order = await decided_order(client, order_id)
    assert order["status"] in ("cancelled", "declined"), order
    assert "com.example.payment.declined" in [step["type"] for step in order["history"]]


async def test_the_brokers_deliveries_reach_the_functions_through_the_gateway_in_process(
    platform: LocalPlatform,
) -> None:
    """No loopback socket between the broker and the gateway (ADR 0029), and the gateway
    still answers each delivery as a request to the revision (its metrics count them)."""
    to_gateway = platform.eventing.client.pool(platform.settings.host, platform.data_port)

    def audit_requests() -> float:
        registry = platform.telemetry.metrics.registry
        return sum(
            sample.value
            for metric in registry.collect()
            for sample in metric.samples
            if sample.name == "kn_serving_invocation_duration_seconds_count"
            and sample.labels.get("kn_service_name") == "audit"
        )

    before = audit_requests()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{platform.data_port}") as client:
        order = await decided_order(client, await place_order(client, "WIDGET-1"))
    assert order["status"] == "paid", order

    await eventually(lambda: audit_requests() > before, "the gateway counting audit's deliveries")
    assert isinstance(to_gateway, InProcessPool)
    assert to_gateway.idle() is None  # no keep-alive connection was ever opened to the gateway
