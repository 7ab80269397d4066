"""Sequence and Parallel on the whole local platform: real HTTP on loopback.

Steps, filters and branch subscribers are recording servers that answer with a reply
CloudEvent; events are posted to the flow's address on the data plane.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bulut.local import LocalPlatform
from tests.support.eventing import Received, subscriber
from tests.support.messaging import NS, appending, event_headers, post, ready, sequence
from tests.support.platform import condition, local_settings, running_platform

pytestmark = pytest.mark.asyncio

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[LocalPlatform]:
    async with running_platform(local_settings(tmp_path, domain="localhost")) as platform:
        yield platform


def passing(event_type: str) -> Callable[[Received, int], Answer]:
    """A Parallel filter: replies with the event (passes) only when its type matches."""

    def respond(request: Received, n: int) -> Answer:
        if request.ce["type"] != event_type:
            return 200, [], b""
        headers = [(f"ce-{k}".encode(), v.encode()) for k, v in request.ce.items()]
        return 200, [*headers, (b"content-type", b"application/json")], request.body

    return respond


async def test_an_event_posted_to_a_sequence_passes_each_step_in_order_and_reaches_reply(
    local: LocalPlatform,
) -> None:
    async with (
        subscriber(respond=appending("validate")) as first,
        subscriber(respond=appending("enrich")) as second,
        subscriber(respond=appending("price")) as third,
        subscriber() as reply,
    ):
        steps = [first.url, second.url, third.url]
        await local.apply_documents([sequence("orders", steps, reply.url)])
        found = await ready(local, "Sequence", "orders")
        port = local.settings.data_port
        address = f"http://orders-kn-sequence-0-kn-channel.{NS}.localhost:{port}"
        assert found["status"]["address"]["url"] == address
        assert [c["channel"]["name"] for c in found["status"]["channelStatuses"]] == [
            "orders-kn-sequence-0",
            "orders-kn-sequence-1",
            "orders-kn-sequence-2",
        ]
        assert all(s["ready"]["status"] == "True" for s in found["status"]["subscriptionStatuses"])
        answer = await post(local, address, event_headers(), b'{"order": 7}')
        assert answer.status_code == 202  # the whole chain ran before the answer
        [final] = reply.received
        assert json.loads(final.body) == {"order": 7, "steps": ["validate", "enrich", "price"]}
        assert final.ce["source"] == "/price"
        subs = await local.control.list("Subscription", NS)
        chained = {s["metadata"]["name"]: s["spec"].get("reply") for s in subs}
        assert chained["orders-kn-sequence-0"]["ref"]["name"] == "orders-kn-sequence-1"
        assert chained["orders-kn-sequence-2"] == {"uri": reply.url}

        await local.control.delete("Sequence", NS, "orders")
        assert await local.control.list("Subscription", NS) == []
        assert await local.control.list("InMemoryChannel", NS) == []


async def test_a_parallel_with_a_filter_sends_only_matching_events_down_that_branch(
    local: LocalPlatform,
) -> None:
    async with (
        subscriber(respond=passing("com.example.order.paid")) as paid_filter,
        subscriber(respond=appending("paid")) as paid,
        subscriber(respond=appending("audit")) as audit,
        subscriber() as reply,
    ):
        parallel = {
            "apiVersion": "flows.knative.dev/v1",
            "kind": "Parallel",
            "metadata": {"name": "fanout", "namespace": NS},
            "spec": {
                "branches": [
                    {"filter": {"uri": paid_filter.url}, "subscriber": {"uri": paid.url}},
                    {"subscriber": {"uri": audit.url}},
                ],
                "reply": {"uri": reply.url},
            },
        }
        await local.apply_documents([parallel])
        found = await ready(local, "Parallel", "fanout")
        status = found["status"]
        address = status["address"]["url"]
        assert address.startswith(f"http://fanout-kn-parallel-kn-channel.{NS}.localhost:")
        assert status["ingressChannelStatus"]["channel"]["name"] == "fanout-kn-parallel"
        branch = status["branchStatuses"][0]
        assert branch["filterSubscriptionStatus"]["subscription"]["name"] == (
            "fanout-kn-parallel-filter-0"
        )
        assert branch["filterChannelStatus"]["channel"]["name"] == "fanout-kn-parallel-0"
        assert condition(found, "SubscriptionsReady")["status"] == "True"

        created = await post(local, address, event_headers("com.example.order.created"))
        paid_event = await post(local, address, event_headers("com.example.order.paid"))
        assert created.status_code == paid_event.status_code == 202
        assert len(paid_filter.received) == 2  # the filter sees everything
        assert [r.ce["type"] for r in paid.received] == ["com.example.order.paid"]
        assert len(audit.received) == 2  # no filter: every event
        assert sorted(json.loads(r.body)["steps"][0] for r in reply.received) == [
            "audit",
            "audit",
            "paid",
        ]


async def test_a_sequence_is_not_ready_while_a_step_cannot_be_resolved(
    local: LocalPlatform,
) -> None:
    broken = {
        "apiVersion": "flows.knative.dev/v1",
        "kind": "Sequence",
        "metadata": {"name": "broken", "namespace": NS},
        "spec": {
            "steps": [
                {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "gone"}}
            ]
        },
    }
    await local.apply_documents([broken])
    found = await local.control.get("Sequence", NS, "broken")
    assert condition(found, "SubscriptionsReady") == {
        **condition(found, "SubscriptionsReady"),
        "status": "Unknown",
        "reason": "SubscriptionsNotReady",
    }
    assert condition(found, "Ready")["status"] == "Unknown"
    [sub] = await local.control.list("Subscription", NS)
    assert condition(sub, "ReferencesResolved")["reason"] == "SubscriberResolveFailed"
