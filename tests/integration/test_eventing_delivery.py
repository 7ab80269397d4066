"""Triggers filter, deliver, retry, dead-letter and forward replies, over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.clock import RecordingSleep
from tests.support.eventing import (
    Answer,
    Received,
    binary_headers,
    broker,
    eventing_runtime,
    subscriber,
    trigger,
)

pytestmark = pytest.mark.integration

DIALECTS: dict[str, dict[str, Any]] = {
    "attributes": {"filter": {"attributes": {"type": "order.created"}}},
    "exact": {"filters": [{"exact": {"type": "order.created"}}]},
    "prefix": {"filters": [{"prefix": {"type": "order."}}]},
    "suffix": {"filters": [{"suffix": {"type": ".cancelled"}}]},
    "all": {"filters": [{"all": [{"prefix": {"type": "order."}}, {"exact": {"region": "eu"}}]}]},
    "any": {
        "filters": [{"any": [{"exact": {"type": "payment.done"}}, {"exact": {"region": "us"}}]}]
    },
    "not": {"filters": [{"not": {"prefix": {"type": "order."}}}]},
    "cesql": {"filters": [{"cesql": "type LIKE 'order.%' AND region = 'eu'"}]},
}
EVENTS = [
    ("e1", "order.created", "eu"),
    ("e2", "order.cancelled", "us"),
    ("e3", "payment.done", "eu"),
]
EXPECTED = {
    "attributes": {"e1"},
    "exact": {"e1"},
    "prefix": {"e1", "e2"},
    "suffix": {"e2"},
    "all": {"e1"},
    "any": {"e2", "e3"},
    "not": {"e3"},
    "cesql": {"e1"},
}


async def _post(url: str, event_id: str, event_type: str = "demo", **ext: str) -> int:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            url, headers=binary_headers(event_id, event_type, **ext), content=b"{}"
        )
        return response.status_code


async def test_every_filter_dialect_reaches_delivery(tmp_path: Path) -> None:
    async with subscriber() as sub:
        resources = [broker()] + [
            trigger(name, f"{sub.url}{name}", **spec) for name, spec in DIALECTS.items()
        ]
        async with eventing_runtime(tmp_path, resources) as rt:
            for event_id, event_type, region in EVENTS:
                assert await _post(rt.broker_url, event_id, event_type, region=region) == 202
            total = sum(len(ids) for ids in EXPECTED.values())
            await sub.wait_for(total)
            await rt.settled()  # every trigger has its outcome: nothing more arrives
    by_path: dict[str, set[str]] = {name: set() for name in DIALECTS}
    for request in sub.received:
        by_path[request.path].add(request.ce["id"])
    assert by_path == EXPECTED


def _fail_then_succeed(failures: int, status: int = 503) -> Any:
    def respond(request: Received, n: int) -> Answer:
        return (status, [], b"busy") if n <= failures else (200, [], b"")

    return respond


@pytest.mark.parametrize(
    ("policy", "waits"),
    [("exponential", [0.1, 0.2, 0.4]), ("linear", [0.0, 0.1, 0.2])],
)
async def test_retries_wait_as_knative_does(
    tmp_path: Path, policy: str, waits: list[float]
) -> None:
    delivery = {"retry": 3, "backoffPolicy": policy, "backoffDelay": "PT0.1S"}
    async with subscriber(_fail_then_succeed(3)) as sub:
        resources = [broker(), trigger("t", sub.url, delivery=delivery)]
        async with eventing_runtime(tmp_path, resources) as rt:
            clock = rt.eventing.deliverer.sleep = RecordingSleep(real=True)
            assert await _post(rt.broker_url, "r1") == 202
            received = await sub.wait_for(4)
            await rt.settled()
            (found,) = await rt.eventing.describe("r1")
    assert clock.waits == pytest.approx(waits)  # exactly Knative's waits were asked for
    gaps = [b.at - a.at for a, b in itertools.pairwise(received)]
    # and really waited: never shorter (a loaded machine may only make them longer)
    assert all(gap >= wait - 0.01 for gap, wait in zip(gaps, waits, strict=True)), gaps
    (outcome,) = found["deliveries"]
    assert (outcome["outcome"], outcome["attempts"], outcome["code"]) == ("delivered", 4, 200)
    assert [h["code"] for h in outcome["history"]] == [503, 503, 503, 200]


async def test_a_400_is_not_retried(tmp_path: Path) -> None:
    delivery = {"retry": 5, "backoffPolicy": "linear", "backoffDelay": "PT0.01S"}
    async with (
        subscriber(lambda r, n: (400, [], b"no")) as sub,
        eventing_runtime(tmp_path, [broker(), trigger("t", sub.url, delivery=delivery)]) as rt,
    ):
        assert await _post(rt.broker_url, "bad") == 202
        await sub.wait_for(1)
        await rt.settled()
    assert len(sub.received) == 1


async def test_dead_letter_sink_gets_the_original_event_with_three_extensions(
    tmp_path: Path,
) -> None:
    delivery = {"retry": 1, "backoffPolicy": "linear", "backoffDelay": "PT0.01S"}
    async with subscriber(lambda r, n: (500, [], b"boom")) as sub, subscriber() as dls:
        resources = [
            broker(),
            trigger("t", sub.url, delivery=delivery, dead_letter_sink_uri=dls.url),
        ]
        async with eventing_runtime(tmp_path, resources) as rt:
            assert await _post(rt.broker_url, "dead", "order.created") == 202
            (letter,) = await dls.wait_for(1)
            await rt.settled()
            (found,) = await rt.eventing.describe("dead")
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(rt.eventing.admin_app)
            ) as admin:
                listed = (await admin.get("http://admin/dead-letters")).json()["items"]
    assert len(sub.received) == 2
    assert letter.ce["id"] == "dead"
    assert letter.ce["type"] == "order.created"
    assert letter.ce["knativeerrordest"] == sub.url
    assert letter.ce["knativeerrorcode"] == "500"
    assert base64.b64decode(letter.ce["knativeerrordata"]) == b"boom"
    assert found["deliveries"][0]["outcome"] == "dead-lettered"
    assert [item["id"] for item in listed] == ["dead"]


async def test_a_plain_2xx_body_is_a_502_failure_as_in_knative(tmp_path: Path) -> None:
    async with (
        subscriber(lambda r, n: (200, [(b"content-type", b"text/plain")], b"OK")) as sub,
        subscriber() as dls,
    ):
        resources = [
            broker(),
            trigger("t", sub.url, dead_letter_sink_uri=dls.url, delivery={"retry": 0}),
        ]
        async with eventing_runtime(tmp_path, resources) as rt:
            assert await _post(rt.broker_url, "plain") == 202
            (letter,) = await dls.wait_for(1)
    assert letter.ce["knativeerrorcode"] == "502"


def _echo_reply(request: Received, n: int) -> Answer:
    headers = [
        (b"ce-specversion", b"1.0"),
        (b"ce-id", f"reply-{n}".encode()),
        (b"ce-source", b"/echo"),
        (b"ce-type", b"echo"),
    ]
    return 200, headers, b""


async def test_a_reply_loop_is_stopped_by_the_ttl(tmp_path: Path) -> None:
    async with (
        subscriber(_echo_reply) as sub,
        eventing_runtime(tmp_path, [broker(), trigger("loop", sub.url)]) as rt,
    ):
        assert await _post(rt.broker_url, "first", knativebrokerttl="5") == 202
        await sub.wait_for(4)
        await rt.settled()  # the fourth reply was refused: no fifth delivery is coming
    # stored TTLs 4, 3, 2, 1; the fourth reply would reach 0 and is refused
    assert [r.ce["id"] for r in sub.received] == ["first", "reply-1", "reply-2", "reply-3"]
    assert all("knativebrokerttl" not in r.ce for r in sub.received)


async def test_a_reply_goes_back_into_the_broker_and_reaches_other_triggers(tmp_path: Path) -> None:
    async with subscriber(_echo_reply) as echo, subscriber() as sink:
        resources = [
            broker(),
            trigger("echo", echo.url, filter={"attributes": {"type": "ping"}}),
            trigger("sink", sink.url, filter={"attributes": {"type": "echo"}}),
        ]
        async with eventing_runtime(tmp_path, resources) as rt:
            assert await _post(rt.broker_url, "p", "ping") == 202
            (reply,) = await sink.wait_for(1)
            (found,) = await rt.eventing.describe("p")
    assert reply.ce["source"] == "/echo"
    assert found["deliveries"][0]["outcome"] == "replied"


async def test_a_concurrency_one_subscriber_is_fed_one_at_a_time(tmp_path: Path) -> None:
    async with subscriber(delay=0.02) as slow:
        service = {
            "kind": "Service",
            "metadata": {"name": "slow", "namespace": "default"},
            "spec": {
                "template": {
                    "metadata": {"annotations": {"autoscaling.knative.dev/max-scale": "1"}},
                    "spec": {"containerConcurrency": 1},
                }
            },
        }
        url = f"http://slow.default.localhost:{slow.port}/"
        resources = [broker(), service, trigger("t", url)]
        async with eventing_runtime(tmp_path, resources, data_port=slow.port) as rt:
            async with httpx.AsyncClient() as http:
                statuses = await asyncio.gather(
                    *(
                        http.post(rt.broker_url, headers=binary_headers(f"c{i}"), content=b"{}")
                        for i in range(20)
                    )
                )
            assert {s.status_code for s in statuses} == {202}
            received = await slow.wait_for(20)
    assert slow.max_in_flight == 1
    assert {r.headers["host"] for r in received} == {f"slow.default.localhost:{slow.port}"}


async def test_sync_fanout_answers_after_delivery_and_500_when_it_fails(tmp_path: Path) -> None:
    async with subscriber(delay=0.3) as ok, subscriber(lambda r, n: (500, [], b"")) as bad:
        resources = [
            broker(),
            trigger("ok", ok.url, filter={"attributes": {"type": "good"}}),
            trigger("bad", bad.url, filter={"attributes": {"type": "bad"}}),
        ]
        async with eventing_runtime(tmp_path, resources, sync_fanout=True) as rt:
            started = time.monotonic()
            assert await _post(rt.broker_url, "g", "good") == 202
            assert time.monotonic() - started >= 0.3
            assert len(ok.received) == 1
            assert await _post(rt.broker_url, "b", "bad") == 500


async def test_a_dead_lettered_event_can_be_redelivered(tmp_path: Path) -> None:
    healthy = False

    def respond(request: Received, n: int) -> Answer:
        return (200, [], b"") if healthy else (503, [], b"down")

    async with subscriber(respond) as sub, subscriber() as dls:
        resources = [
            broker(),
            trigger("t", sub.url, dead_letter_sink_uri=dls.url, delivery={"retry": 0}),
        ]
        async with eventing_runtime(tmp_path, resources) as rt:
            assert await _post(rt.broker_url, "again") == 202
            await dls.wait_for(1)
            healthy = True
            transport = httpx.ASGITransport(rt.eventing.admin_app)
            async with httpx.AsyncClient(transport=transport, base_url="http://admin") as admin:
                response = await admin.post("/events/again/redeliver")
                assert response.status_code == 202
                assert response.json()["redelivering"] == ["default/t"]
                await sub.wait_for(2)
                await rt.settled()
                event = (await admin.get("/events/again")).json()["items"][0]
                assert (await admin.get("/dead-letters")).json()["items"] == []
    assert event["deliveries"][0]["outcome"] == "delivered"


async def test_a_ping_source_with_a_seconds_field_emits_into_the_broker(tmp_path: Path) -> None:
    async with subscriber() as sub:
        resources = [
            broker(),
            trigger("pings", sub.url, filter={"attributes": {"type": "dev.knative.sources.ping"}}),
        ]
        async with eventing_runtime(tmp_path, resources) as rt:
            rt.feed.put(
                {
                    "kind": "PingSource",
                    "metadata": {"name": "beat", "namespace": "default"},
                    "spec": {
                        "schedule": "* * * * * *",
                        "contentType": "application/json",
                        "data": '{"n":1}',
                    },
                    "status": {"sinkUri": rt.broker_url},
                }
            )
            (ping,) = (await sub.wait_for(1, timeout=4.0))[:1]
    assert ping.ce["source"] == "/apis/v1/namespaces/default/pingsources/beat"
    assert json.loads(ping.body) == {"n": 1}


async def test_a_triggers_own_delivery_drops_the_brokers_dead_letter_sink(tmp_path: Path) -> None:
    async with subscriber(lambda r, n: (500, [], b"")) as sub, subscriber() as dls:
        delivery = {"retry": 1, "deadLetterSink": {"uri": dls.url}}
        resources = [
            broker(delivery=delivery),
            trigger("inherits", f"{sub.url}inherits"),
            trigger("own", f"{sub.url}own", delivery={"retry": 0}),
        ]
        async with eventing_runtime(tmp_path, resources) as rt:
            assert await _post(rt.broker_url, "x") == 202
            (letter,) = await dls.wait_for(1)
            await rt.settled()
    assert letter.ce["knativeerrordest"] == f"{sub.url}inherits"
    assert len(dls.received) == 1
    assert sorted(r.path for r in sub.received) == ["inherits", "inherits", "own"]


async def test_a_slow_subscriber_times_out_per_attempt(tmp_path: Path) -> None:
    async with subscriber(delay=1.0) as slow, subscriber() as dls:
        delivery = {"retry": 1, "timeout": "PT0.1S"}
        resources = [
            broker(),
            trigger("t", slow.url, delivery=delivery, dead_letter_sink_uri=dls.url),
        ]
        async with eventing_runtime(tmp_path, resources) as rt:
            assert await _post(rt.broker_url, "slow") == 202
            (letter,) = await dls.wait_for(1)
            await rt.settled()
            (found,) = await rt.eventing.describe("slow")
    # Without the per-attempt timeout the first attempt would succeed after 1 s.
    assert len(slow.received) == 2
    assert letter.ce["knativeerrorcode"] == "500"  # no response
    (outcome,) = found["deliveries"]
    assert (outcome["outcome"], outcome["attempts"]) == ("dead-lettered", 2)
