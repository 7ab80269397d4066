"""EventTypes: auto-created from what a broker and a channel receive, only when enabled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulut.local import LocalPlatform
from tests.support.messaging import NS, channel, event_headers, post, ready
from tests.support.platform import local_settings, running_platform
from tests.support.waiting import eventually

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[LocalPlatform]:
    async with running_platform(local_settings(tmp_path, domain="localhost")) as platform:
        yield platform


def features(value: str) -> list[dict[str, Any]]:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "knative-eventing"}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "config-features", "namespace": "knative-eventing"},
            "data": {"eventtype-auto-create": value},
        },
    ]


BROKER = {
    "apiVersion": "eventing.knative.dev/v1",
    "kind": "Broker",
    "metadata": {"name": "default", "namespace": NS},
}


async def send_both(local: LocalPlatform, event_type: str) -> None:
    ch = await ready(local, "Channel", "orders")
    assert (
        await post(local, ch["status"]["address"]["url"], event_headers(event_type))
    ).status_code == 202
    broker = await ready(local, "Broker", "default")
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(
            broker["status"]["address"]["url"], headers=event_headers(event_type), content=b"{}"
        )
    assert answer.status_code == 202


async def test_eventtypes_appear_for_broker_and_channel_events_when_auto_create_is_on(
    local: LocalPlatform,
) -> None:
    await local.apply_documents([*features("enabled"), BROKER, channel("orders")])
    await send_both(local, "com.example.order.created")

    async def both() -> list[dict[str, Any]] | None:
        found = await local.control.list("EventType", NS)
        return found if len(found) == 2 else None

    eventtypes = await eventually(both, "two EventTypes", timeout=10)
    by_kind = {e["spec"]["reference"]["kind"]: e for e in eventtypes}
    broker_type = by_kind["Broker"]
    assert broker_type["metadata"]["name"].startswith("et-default-")
    assert broker_type["metadata"]["ownerReferences"][0]["kind"] == "Broker"
    attributes = {a["name"]: a.get("value") for a in broker_type["spec"]["attributes"]}
    assert attributes["type"] == "com.example.order.created"
    assert attributes["source"] == "/tests"
    assert "id" in attributes
    assert broker_type["spec"]["description"] == "Event Type auto-created by controller"
    assert by_kind["InMemoryChannel"]["spec"]["reference"]["name"] == "orders"
    ready_type = await ready(local, "EventType", broker_type["metadata"]["name"])
    assert ready_type["status"]["conditions"]

    # the same type again creates nothing new; deleting the broker deletes its EventType
    await send_both(local, "com.example.order.created")
    assert len(await local.control.list("EventType", NS)) == 2
    await local.control.delete("Broker", NS, "default")
    remaining = await local.control.list("EventType", NS)
    assert [e["spec"]["reference"]["kind"] for e in remaining] == ["InMemoryChannel"]


async def test_no_eventtypes_are_created_when_auto_create_is_off(local: LocalPlatform) -> None:
    await local.apply_documents([*features("disabled"), BROKER, channel("orders")])
    await send_both(local, "com.example.order.created")
    assert await local.control.list("EventType", NS) == []
    # switched on, a new type is catalogued: only it, never the events sent while off
    await local.apply_documents(features("enabled"))

    async def catalogued() -> list[str] | None:
        await send_both(local, "com.example.order.paid")
        found = await local.control.list("EventType", NS)
        types = sorted(
            a["value"] for e in found for a in e["spec"]["attributes"] if a["name"] == "type"
        )
        return types if len(types) == 2 else None

    types = await eventually(catalogued, "the paid type catalogued", timeout=10)
    assert types == ["com.example.order.paid", "com.example.order.paid"]
