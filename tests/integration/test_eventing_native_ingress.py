"""The broker ingress as a native ``bulut.httpd`` handler, over real loopback HTTP.

The broker is served by :class:`bulut.eventing.standalone.EventingServer` (the server of
``python -m bulut.eventing.standalone``): no ASGI on the way in, the 202 written from the
log's group-commit callback. Raw sockets are used where the wire matters (pipelining,
``Connection: close``).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import httptools
import httpx
import pytest

from bulut.eventing.ingress import Ingress
from bulut.observability.tracer import Tracer
from bulut.observability.tracing import parse_traceparent
from bulut.serving.front import Front
from bulut.serving.router import Router
from tests.support.eventing import (
    Runtime,
    binary_headers,
    broker,
    eventing_runtime,
    subscriber,
    trigger,
)

pytestmark = pytest.mark.integration

BATCH = {"content-type": "application/cloudevents-batch+json"}


def _structured(event_id: str, **extra: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id, "source": "/s", "type": "t", **extra}


def _rows(rt: Runtime) -> list[tuple[str, int]]:
    """What another connection sees committed in the log file: (id, ttl) in order."""
    with sqlite3.connect(rt.eventing.log.path) as db:
        return [(row[0], row[1]) for row in db.execute("select id, ttl from events order by seq")]


class _Responses:
    """httptools callbacks collecting responses read from a raw socket."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.done: list[tuple[int, dict[str, str], bytes]] = []
        self._headers: dict[str, str] = {}
        self._body = b""

    def on_message_begin(self) -> None:
        self._headers, self._body = {}, b""

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode().lower()] = value.decode()

    def on_body(self, body: bytes) -> None:
        self._body += body

    def on_message_complete(self) -> None:
        self.done.append((self.parser.get_status_code(), self._headers, self._body))


def _request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _exchange(
    port: int, payload: bytes, count: int, timeout: float = 5.0
) -> tuple[list[tuple[int, dict[str, str], bytes]], bool]:
    """Write ``payload`` at once, read ``count`` responses; also whether the server closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    responses = _Responses()
    closed = False
    try:
        writer.write(payload)
        await writer.drain()
        async with asyncio.timeout(timeout):
            while len(responses.done) < count:
                data = await reader.read(65536)
                if not data:
                    closed = True
                    break
                responses.parser.feed_data(data)
            if not closed:
                try:
                    async with asyncio.timeout(0.3):
                        closed = await reader.read(1) == b""
                except TimeoutError:
                    closed = False
    finally:
        writer.close()
    return responses.done, closed


async def test_202_means_the_event_is_committed_in_the_log_file(tmp_path: Path) -> None:
    async with eventing_runtime(tmp_path, [broker()]) as rt, httpx.AsyncClient() as http:
        response = await http.post(rt.broker_url, headers=binary_headers("d1"), content=b"{}")
        assert response.status_code == 202
        assert response.content == b""
        assert _rows(rt) == [("d1", 255)]  # visible to another connection: committed
        spent = binary_headers("d2", knativebrokerttl="7")
        assert (await http.post(rt.broker_url, headers=spent, content=b"{}")).status_code == 202
        assert _rows(rt)[-1] == ("d2", 6)
        assert rt.eventing.ingress.accepted == 2


async def test_a_bad_event_is_a_400_problem_naming_the_attribute(tmp_path: Path) -> None:
    cases = [
        ({k: v for k, v in binary_headers("x").items() if k != "ce-source"}, "source"),
        ({**binary_headers("x"), "ce-specversion": "0.3"}, "specversion"),
        ({**binary_headers("x"), "ce-time": "yesterday"}, "time"),
        (binary_headers("x", knativebrokerttl="1"), "knativebrokerttl"),
    ]
    async with eventing_runtime(tmp_path, [broker()]) as rt, httpx.AsyncClient() as http:
        for headers, field in cases:
            response = await http.post(rt.broker_url, headers=headers, content=b"{}")
            assert response.status_code == 400, field
            assert response.headers["content-type"] == "application/problem+json"
            problem = response.json()
            assert problem["field"] == field
            assert problem["status"] == 400
            assert problem["instance"] == "/default/default"
        assert _rows(rt) == []


async def test_paths_methods_and_options_answer_as_knative(tmp_path: Path) -> None:
    async with eventing_runtime(tmp_path, [broker()]) as rt, httpx.AsyncClient() as http:
        base = f"http://127.0.0.1:{rt.port}"
        for method in ("GET", "PUT", "DELETE", "PATCH"):
            response = await http.request(method, rt.broker_url)
            assert response.status_code == 405
            assert response.headers["allow"] == "POST, OPTIONS"
        options = await http.options(f"{base}/anything/at/all")
        assert options.status_code == 200
        assert options.headers["webhook-allowed-origin"] == "*"
        assert options.headers["webhook-allowed-rate"] == "*"
        root = await http.post(f"{base}/", headers=binary_headers("r"))
        assert root.status_code == 404
        assert root.headers["content-type"] == "application/problem+json"
        assert (await http.post(f"{base}/only-one", headers=binary_headers("p"))).status_code == 400
        assert (
            await http.post(f"{base}/default/nope", headers=binary_headers("n"))
        ).status_code == 404


async def test_413_above_the_event_limit_and_the_batch_limit_for_batches(tmp_path: Path) -> None:
    async with (
        eventing_runtime(tmp_path, [broker()], max_event_bytes=1024) as rt,
        httpx.AsyncClient() as http,
    ):
        headers = {**binary_headers("big"), "content-type": "application/octet-stream"}
        attributes = sum(len(k) + len(v) for k, v in headers.items() if k.startswith("ce-"))
        fits = b"x" * (1024 - attributes)  # the limit holds the data and the attributes
        assert (await http.post(rt.broker_url, headers=headers, content=fits)).status_code == 202
        too_big = await http.post(rt.broker_url, headers=headers, content=fits + b"x")
        assert too_big.status_code == 413
        assert too_big.headers["content-type"] == "application/problem+json"
        # a body above the limit by itself is refused from its Content-Length, unread
        unread = await http.post(rt.broker_url, headers=headers, content=b"x" * 1025)
        assert unread.status_code == 413
        # a batch is measured against the (larger) batch limit
        batch = [_structured(f"b{i}", data="y" * 400) for i in range(5)]
        response = await http.post(rt.broker_url, content=json.dumps(batch), headers=BATCH)
        assert response.status_code == 202
        assert len(_rows(rt)) == 6


async def test_a_batch_is_accepted_or_rejected_whole(tmp_path: Path) -> None:
    async with eventing_runtime(tmp_path, [broker()]) as rt, httpx.AsyncClient() as http:
        good = [_structured(f"g{i}") for i in range(3)]
        response = await http.post(rt.broker_url, content=json.dumps(good), headers=BATCH)
        assert response.status_code == 202
        assert [r[0] for r in _rows(rt)] == ["g0", "g1", "g2"]

        mixed = [_structured("m0"), {"specversion": "1.0", "source": "/s", "type": "t"}]
        response = await http.post(rt.broker_url, content=json.dumps(mixed), headers=BATCH)
        assert response.status_code == 400
        assert response.json()["field"] == "id"
        spent = [_structured("s0"), _structured("s1", knativebrokerttl=1)]
        response = await http.post(rt.broker_url, content=json.dumps(spent), headers=BATCH)
        assert response.status_code == 400
        assert response.json()["field"] == "knativebrokerttl"
        assert [r[0] for r in _rows(rt)] == ["g0", "g1", "g2"]

        empty = await http.post(rt.broker_url, content=b"[]", headers=BATCH)
        assert empty.status_code == 202
        assert rt.eventing.ingress.accepted == 3


async def test_pipelined_requests_are_answered_in_order_on_one_connection(
    tmp_path: Path,
) -> None:
    async with eventing_runtime(tmp_path, [broker()]) as rt:
        requests = [
            _request("POST", "/default/default", binary_headers("p0"), b"{}"),
            _request("POST", "/default/default", {"ce-specversion": "1.0", "ce-id": "x"}),
            _request("GET", "/default/default", {}),
            _request("POST", "/default/default", binary_headers("p1"), b"{}"),
            _request("POST", "/default/nope", binary_headers("p2"), b"{}"),
            _request("OPTIONS", "/default/default", {}),
        ]
        requests += [
            _request("POST", "/default/default", binary_headers(f"q{i}"), b"{}") for i in range(40)
        ]
        responses, closed = await _exchange(rt.port, b"".join(requests), len(requests))
        statuses = [status for status, _, _ in responses]
        assert statuses == [202, 400, 405, 202, 404, 200] + [202] * 40
        assert not closed  # keep-alive
        assert [r[0] for r in _rows(rt)] == ["p0", "p1"] + [f"q{i}" for i in range(40)]


async def test_connection_close_is_honoured_after_the_answer(tmp_path: Path) -> None:
    async with eventing_runtime(tmp_path, [broker()]) as rt:
        headers = {**binary_headers("c0"), "connection": "close"}
        responses, closed = await _exchange(
            rt.port, _request("POST", "/default/default", headers, b"{}"), 1
        )
        assert [status for status, _, _ in responses] == [202]
        assert closed


async def test_a_failing_log_write_is_a_500_and_nothing_is_accepted(tmp_path: Path) -> None:
    async with eventing_runtime(tmp_path, [broker()]) as rt, httpx.AsyncClient() as http:
        db = rt.eventing.log.db
        assert db is not None
        db.execute("pragma query_only = 1")  # every write fails from here on
        response = await http.post(rt.broker_url, headers=binary_headers("f"), content=b"{}")
        db.execute("pragma query_only = 0")
        assert response.status_code == 500
        assert response.headers["content-type"] == "application/problem+json"
        assert "the event log could not store the event" in response.json()["detail"]
        assert rt.eventing.ingress.accepted == 0
        after = await http.post(rt.broker_url, headers=binary_headers("g"), content=b"{}")
        assert after.status_code == 202
        assert _rows(rt) == [("g", 255)]


async def test_the_admin_api_is_served_beside_the_ingress(tmp_path: Path) -> None:
    async with eventing_runtime(tmp_path, [broker()]) as rt, httpx.AsyncClient() as http:
        await http.post(rt.broker_url, headers=binary_headers("s1"), content=b"{}")
        stats = await http.get(f"http://127.0.0.1:{rt.port}/eventing/stats")
        assert stats.status_code == 200
        assert stats.json()["accepted"] == 1
        found = await http.get(f"http://127.0.0.1:{rt.port}/eventing/events/s1")
        assert found.json()["items"][0]["attributes"]["id"] == "s1"

        tail_url = f"http://127.0.0.1:{rt.port}/eventing/tail"
        async with http.stream("GET", tail_url) as tail:
            assert tail.headers["content-type"].startswith("text/event-stream")
            lines = tail.aiter_lines()
            assert await anext(lines) == ": tail"
            await http.post(rt.broker_url, headers=binary_headers("s2"), content=b"{}")
            async with asyncio.timeout(5):
                async for line in lines:
                    if line.startswith("data: "):
                        assert json.loads(line[6:])["id"] == "s2"
                        break


async def test_ingress_and_delivery_spans_join_one_trace(tmp_path: Path) -> None:
    async with subscriber() as sub:
        resources = [broker(), trigger("all", sub.url)]
        async with eventing_runtime(tmp_path, resources) as rt, httpx.AsyncClient() as http:
            tracer = Tracer(service="test")
            rt.eventing.ingress.tracer = tracer
            rt.eventing.deliverer.tracer = tracer
            await http.post(rt.broker_url, headers=binary_headers("t1"), content=b"{}")
            parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            joined = {**binary_headers("t2"), "traceparent": parent}
            await http.post(rt.broker_url, headers=joined, content=b"{}")
            received = await sub.wait_for(2)
            await rt.settled()  # a delivery's span ends before its outcome is recorded
            spans = tracer.take()

    first = next(r for r in received if r.ce["id"] == "t1")
    created = parse_traceparent(first.ce["traceparent"])
    hop = parse_traceparent(first.headers["traceparent"])
    assert created is not None and hop is not None
    assert hop.trace_id == created.trace_id and hop.span_id != created.span_id
    by_name = {(s.name, s.trace_id): s for s in spans}
    ingress = by_name[("broker.ingress default/default", created.trace_id)]
    delivery = by_name[("trigger.delivery default/all", created.trace_id)]
    assert ingress.span_id == created.span_id
    assert delivery.parent_id == ingress.span_id
    assert delivery.span_id == hop.span_id
    assert ingress.attributes["cloudevents.event_id"] == "t1"
    assert ingress.attributes["http.response.status_code"] == 202

    second = next(r for r in received if r.ce["id"] == "t2")
    assert second.ce["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c"


async def test_the_data_plane_gateway_hands_broker_posts_to_the_native_handler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_asgi(*_: Any) -> None:
        raise AssertionError("the gateway must not use the ingress's ASGI entry")

    monkeypatch.setattr(Ingress, "__call__", no_asgi)
    async with eventing_runtime(tmp_path, [broker()]) as rt:
        front = Front(Router({}, fallback=rt.eventing.ingress_app))
        await front.start()
        try:
            base = f"http://127.0.0.1:{front.port}"
            async with httpx.AsyncClient(base_url=base) as http:
                ok = await http.post(
                    "/default/default", headers=binary_headers("gw1"), content=b"{}"
                )
                assert ok.status_code == 202
                bad = await http.post("/default/default", headers={"ce-specversion": "1.0"})
                assert bad.status_code == 400
                assert (await http.get("/default/default")).status_code == 405
                headers = {**binary_headers("gw2"), "connection": "close"}
                closing = await http.post("/default/default", headers=headers, content=b"{}")
                assert closing.status_code == 202
        finally:
            await front.stop(grace=1.0)
        assert [r[0] for r in _rows(rt)] == ["gw1", "gw2"]
