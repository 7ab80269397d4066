"""The gateway: 404 for hosts that are no service, the edge guard in front of every
request, requests forwarded the way Knative's ingress and activator do, and the
``timeoutSeconds`` table."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.errors import BulutError, UnauthorizedError
from bulut.httpd import Request
from bulut.observability.tracing import TraceContext
from bulut.serving.front import Front
from bulut.serving.gateway import Deadlines, serialise
from bulut.serving.router import Router

from ..httpd.wire import exchange

Scope = dict[str, Any]


async def fallback(scope: Scope, receive: Any, send: Any) -> None:
    """What answers hosts that are no service (the broker ingress, in `bulut up`)."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"fallback"})


async def test_a_host_that_is_no_service_gets_404_without_a_fallback() -> None:
    running = Front(Router({}))
    await running.start()
    try:
        received = await exchange(
            running.port,
            b"GET / HTTP/1.1\r\nhost: nobody.default.localhost\r\n\r\n",
            until=b"host\n",
        )
    finally:
        await running.stop(grace=1.0)

    assert received.startswith(b"HTTP/1.1 404 Not Found")
    assert received.endswith(b"no service for this host\n")


class DenyWithoutToken:
    """A guard that wants an Authorization header."""

    async def admit(self, scope: Scope) -> None:
        if not any(name == b"authorization" for name, _ in scope["headers"]):
            raise UnauthorizedError("missing bearer token")

    def rejection(self, error: BulutError, path: str) -> tuple[int, list[Any], bytes]:
        return error.http_status, [(b"www-authenticate", b"Bearer")], error.message.encode()


async def test_the_guard_answers_for_requests_it_refuses_and_passes_the_rest() -> None:
    running = Front(Router({}, fallback=fallback), guard=DenyWithoutToken())
    await running.start()
    try:
        refused = await exchange(
            running.port, b"GET /x HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
        )
        admitted = await exchange(
            running.port,
            b"GET /x HTTP/1.1\r\nhost: x\r\nauthorization: Bearer t\r\nconnection: close\r\n\r\n",
        )
    finally:
        await running.stop(grace=1.0)

    assert refused.startswith(b"HTTP/1.1 401 Unauthorized")
    assert refused.endswith(b"missing bearer token")
    assert admitted.startswith(b"HTTP/1.1 200 OK")


def test_requests_are_forwarded_with_knatives_proxy_headers() -> None:
    request = Request(
        b"POST",
        b"/p?q=1",
        [
            (b"host", b"svc.ns.localhost"),
            (b"connection", b"keep-alive"),
            (b"traceparent", b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01"),
            (b"ce-id", b"7"),
        ],
        b"{}",
        client=("10.0.0.9", 5000),
    )
    trace = TraceContext("a" * 32, "b" * 16)

    direct = serialise(request, trace, via_activator=False)
    held = serialise(request, trace, via_activator=True)

    assert direct == (
        b"POST /p?q=1 HTTP/1.1\r\nhost: svc.ns.localhost\r\nce-id: 7\r\n"
        b"x-forwarded-for: 10.0.0.9\r\nx-forwarded-proto: http\r\n"
        b"traceparent: 00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01\r\n"
        b"content-length: 2\r\n\r\n{}"
    )
    assert b"k-proxy-request: activator\r\n" in held
    assert b"k-proxy-request" not in direct


def test_a_forwarded_proto_the_client_sent_is_kept() -> None:
    request = Request(b"GET", b"/", [(b"x-forwarded-proto", b"https")], b"")

    raw = serialise(request, TraceContext("a" * 32, "b" * 16), via_activator=False)

    assert raw.count(b"x-forwarded-proto") == 1
    assert b"x-forwarded-proto: https" in raw


class Waiting:
    """Stands in for an exchange in the deadline table."""

    def __init__(self, name: str) -> None:
        self.name = name


def test_deadlines_expire_in_start_order_and_forget_finished_exchanges(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr("bulut.serving.gateway.time.monotonic", lambda: clock[0])
    deadlines = Deadlines()
    first, second, third, other = (Waiting(n) for n in ("first", "second", "third", "other"))
    deadlines.add(first, 1.0)  # type: ignore[arg-type]
    deadlines.add(other, 10.0)  # type: ignore[arg-type]
    clock[0] = 100.5
    deadlines.add(second, 1.0)  # type: ignore[arg-type]
    deadlines.add(third, 1.0)  # type: ignore[arg-type]
    deadlines.discard(second, 1.0)  # type: ignore[arg-type]

    def names(now: float) -> list[str]:
        return [waiting.name for waiting in deadlines.expired(now)]  # type: ignore[attr-defined]

    assert names(100.9) == []
    assert names(101.2) == ["first"]
    assert names(102.0) == ["first", "third"]
    assert names(111.0) == ["first", "third", "other"]
