"""Channels and subscriptions on the whole local platform: real HTTP on loopback.

A Channel (backed by an InMemoryChannel) is applied to a running LocalPlatform,
Subscriptions point at recording subscribers, and events are posted to the channel's
address on the data plane, as a sender on a cluster would.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bulut.local import LocalPlatform
from tests.support.eventing import Received, subscriber
from tests.support.messaging import NS, channel, event_headers, post, ready, subscription
from tests.support.platform import condition, local_settings, running_platform
from tests.support.waiting import eventually

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[LocalPlatform]:
    async with running_platform(local_settings(tmp_path, domain="localhost")) as platform:
        yield platform


async def test_a_channel_is_ready_with_its_backing_channel_address_and_subscribers(
    local: LocalPlatform,
) -> None:
    async with subscriber() as sub:
        await local.apply_documents([channel("orders"), subscription("audit", "orders", sub.url)])
        ch = await ready(local, "Channel", "orders")
        sub_obj = await ready(local, "Subscription", "audit")
    imc = await local.control.get("InMemoryChannel", NS, "orders")
    port = local.settings.data_port
    url = f"http://orders-kn-channel.{NS}.localhost:{port}"
    assert ch["status"]["address"] == {"name": "http", "url": url}
    assert ch["spec"]["channelTemplate"]["kind"] == "InMemoryChannel"
    assert ch["status"]["channel"]["kind"] == "InMemoryChannel"
    assert imc["metadata"]["ownerReferences"][0]["kind"] == "Channel"
    assert imc["spec"]["subscribers"][0]["subscriberUri"] == sub.url
    marked = ch["status"]["subscribers"][0]
    assert marked == {
        "uid": sub_obj["metadata"]["uid"],
        "observedGeneration": sub_obj["metadata"]["generation"],
        "ready": "True",
    }
    assert sub_obj["status"]["physicalSubscription"] == {"subscriberUri": sub.url}
    for type_ in ("ReferencesResolved", "AddedToChannel", "ChannelReady"):
        assert condition(sub_obj, type_)["status"] == "True"


async def test_the_sender_is_answered_after_fan_out_and_a_failing_subscriber_never_blocks_another(
    local: LocalPlatform,
) -> None:
    async with (
        subscriber(respond=lambda r, n: (500, [], b"no")) as failing,
        subscriber() as healthy,
    ):
        await local.apply_documents(
            [
                channel("orders"),
                subscription("failing", "orders", failing.url),
                subscription("healthy", "orders", healthy.url),
            ]
        )
        ch = await ready(local, "Channel", "orders")
        await ready(local, "Subscription", "healthy")
        await ready(local, "Subscription", "failing")
        answer = await post(local, ch["status"]["address"]["url"], event_headers())
        # sync mode: both branches ran before the answer; one failed without a dead letter
        assert answer.status_code == 500
        assert len(healthy.received) == 1 and len(failing.received) == 1
        assert healthy.received[0].headers["prefer"] == "reply"
        assert healthy.received[0].headers["kn-namespace"] == NS


async def test_a_subscription_retries_and_dead_letters_like_a_trigger(local: LocalPlatform) -> None:
    async with subscriber(respond=lambda r, n: (503, [], b"busy")) as flaky, subscriber() as dls:
        delivery = {
            "retry": 2,
            "backoffPolicy": "linear",
            "backoffDelay": "PT0.05S",
            "deadLetterSink": {"uri": dls.url},
        }
        await local.apply_documents(
            [channel("orders"), subscription("flaky", "orders", flaky.url, delivery=delivery)]
        )
        ch = await ready(local, "Channel", "orders")
        sub_obj = await ready(local, "Subscription", "flaky")
        assert sub_obj["status"]["physicalSubscription"]["deadLetterSinkUri"] == dls.url
        headers = event_headers()
        answer = await post(local, ch["status"]["address"]["url"], headers)
        assert answer.status_code == 202  # dead-lettered counts as handled
        assert len(flaky.received) == 3  # the first attempt and two retries
        [dead] = dls.received
        assert dead.ce["id"] == headers["ce-id"]
        assert dead.ce["knativeerrorcode"] == "503"
        assert dead.ce["knativeerrordest"] == flaky.url


async def test_a_reply_goes_to_the_reply_destination_and_a_plain_2xx_body_is_success(
    local: LocalPlatform,
) -> None:
    def reply(request: Received, n: int) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        headers = [
            (b"ce-specversion", b"1.0"),
            (b"ce-id", b"reply-1"),
            (b"ce-source", b"/enricher"),
            (b"ce-type", b"com.example.enriched"),
            (b"content-type", b"application/json"),
        ]
        return 200, headers, b'{"enriched": true}'

    async with (
        subscriber(respond=reply) as enricher,
        subscriber(respond=lambda r, n: (200, [], b"not an event")) as plain,
        subscriber() as replies,
    ):
        await local.apply_documents(
            [
                channel("orders"),
                subscription("enrich", "orders", enricher.url, reply={"uri": replies.url}),
                subscription("plain", "orders", plain.url),
            ]
        )
        ch = await ready(local, "Channel", "orders")
        await ready(local, "Subscription", "enrich")
        await ready(local, "Subscription", "plain")
        answer = await post(local, ch["status"]["address"]["url"], event_headers())
        assert answer.status_code == 202
        # the answer came after the reply was delivered
        [got] = replies.received
        assert got.ce["type"] == "com.example.enriched"
        assert got.body == b'{"enriched": true}'
        assert "prefer" not in got.headers


async def test_an_async_channel_answers_at_once(local: LocalPlatform) -> None:
    async with subscriber(delay=1.5, respond=lambda r, n: (500, [], b"")) as slow:
        imc = {
            "apiVersion": "messaging.knative.dev/v1",
            "kind": "InMemoryChannel",
            "metadata": {
                "name": "fast",
                "namespace": NS,
                "annotations": {"messaging.knative.dev/async-handler": "true"},
            },
        }
        await local.apply_documents(
            [imc, subscription("slow", "fast", slow.url, kind="InMemoryChannel")]
        )
        found = await ready(local, "InMemoryChannel", "fast")
        await ready(local, "Subscription", "slow")
        started = time.monotonic()
        answer = await post(local, found["status"]["address"]["url"], event_headers())
        assert answer.status_code == 202
        assert time.monotonic() - started < 1.0
        await slow.wait_for(1)


async def test_the_channel_answers_as_an_imc_does(local: LocalPlatform) -> None:
    await local.apply_documents([channel("orders")])
    ch = await ready(local, "Channel", "orders")
    port = local.settings.data_port
    async with httpx.AsyncClient(timeout=10) as client:
        base = f"http://127.0.0.1:{port}"
        host = {"host": f"orders-kn-channel.{NS}.localhost:{port}"}
        options = await client.options(f"{base}/", headers=host)
        assert options.status_code == 200
        assert options.headers["webhook-allowed-origin"] == "*"
        assert (await client.get(f"{base}/", headers=host)).status_code == 405
        bad = await client.post(f"{base}/", headers=host, content=b"{}")
        assert bad.status_code == 400
        # zero subscribers: accepted
        ok = await client.post(f"{base}/", headers={**event_headers(), **host}, content=b"{}")
        assert ok.status_code == 202
        # the path form where no broker has the name
        by_path = await client.post(f"{base}/{NS}/orders", headers=event_headers(), content=b"{}")
        assert by_path.status_code == 202
    assert ch["status"]["address"]["url"].endswith(f":{port}")


async def test_deleting_a_channel_deletes_its_backing_channel(local: LocalPlatform) -> None:
    await local.apply_documents([channel("orders")])
    await ready(local, "Channel", "orders")
    await local.control.delete("Channel", NS, "orders")

    async def gone() -> bool:
        return not await local.control.list("InMemoryChannel", NS)

    await eventually(gone, "the backing InMemoryChannel deleted", timeout=10)
