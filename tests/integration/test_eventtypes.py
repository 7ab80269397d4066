"""EventTypes: auto-created from what a broker and a channel receive, only when enabled."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulut.local import LocalPlatform
from tests.support.eventing import Answer, Received, subscriber
from tests.support.messaging import NS, channel, event_headers, post, ready, subscription
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


BROKER_REF = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}
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


def trigger(name: str, subscriber_uri: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"broker": "default", "subscriber": {"uri": subscriber_uri}, **spec},
    }


def replying(event_type: str) -> Callable[[Received, int], Answer]:
    """A subscriber that answers each event with a reply of ``event_type``."""

    def respond(request: Received, n: int) -> Answer:
        reply = {**event_headers(event_type), "ce-source": "/replier"}
        return 200, [(k.encode(), v.encode()) for k, v in reply.items()], b"{}"

    return respond


async def test_eventtypes_appear_for_broker_and_channel_events_when_auto_create_is_on(
    local: LocalPlatform,
) -> None:
    async with (
        subscriber(respond=replying("com.example.order.priced")) as pricer,
        subscriber(respond=replying("com.example.order.audited")) as auditor,
    ):
        created = {"filter": {"attributes": {"type": "com.example.order.created"}}}
        await local.apply_documents(
            [
                *features("enabled"),
                BROKER,
                channel("orders"),
                trigger("pricer", pricer.url, created),
                subscription("auditor", "orders", auditor.url, reply={"ref": BROKER_REF}),
            ]
        )
        await ready(local, "Trigger", "pricer")
        await ready(local, "Subscription", "auditor")
        await send_both(local, "com.example.order.created")

        async def all_four() -> list[dict[str, Any]] | None:
            found = await local.control.list("EventType", NS)
            return found if len(found) == 4 else None

        everything = await eventually(all_four, "four EventTypes", timeout=10)
    catalogue = {(_type_of(e), e["spec"]["reference"]["kind"]) for e in everything}
    # the replies of a trigger's and of a subscription's subscriber, into the broker
    assert catalogue == {
        ("com.example.order.created", "Broker"),
        ("com.example.order.created", "InMemoryChannel"),
        ("com.example.order.priced", "Broker"),
        ("com.example.order.audited", "Broker"),
    }
    eventtypes = [e for e in everything if _type_of(e) == "com.example.order.created"]
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

    # the same type again creates nothing new; deleting the broker deletes its EventTypes
    await local.control.delete("Trigger", NS, "pricer")
    await local.control.delete("Subscription", NS, "auditor")
    await send_both(local, "com.example.order.created")
    assert len(await local.control.list("EventType", NS)) == 4
    await local.control.delete("Broker", NS, "default")
    remaining = await local.control.list("EventType", NS)
    assert [e["spec"]["reference"]["kind"] for e in remaining] == ["InMemoryChannel"]


def _type_of(eventtype: dict[str, Any]) -> str:
    return str(next(a["value"] for a in eventtype["spec"]["attributes"] if a["name"] == "type"))


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
