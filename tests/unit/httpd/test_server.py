"""The data plane's HTTP/1.1 server on a real loopback socket: pipelining,
100-continue, malformed requests, and ASGI apps answered with streamed responses."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bulut.httpd import Server

from .wire import exchange

Scope = dict[str, Any]


async def streaming_app(scope: Scope, receive: Any, send: Any) -> None:
    """Echoes the method, path and body; ``/stream`` answers in three parts."""
    message = await receive()
    body = message.get("body", b"")
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"one ", b"two ", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    text = f"{scope['method']} {scope['path']} {body.decode()}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-app", b"fallback")]})
    await send({"type": "http.response.body", "body": text})


@pytest.fixture
async def server() -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    running = Server(streaming_app)
    await running.start(sock)
    yield int(sock.getsockname()[1])
    await running.stop(grace=1.0)


async def test_pipelined_requests_are_answered_in_order(server: int) -> None:
    raw = (
        b"POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\none"
        b"POST /b HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\ntwo"
        b"GET /c HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )

    received = await exchange(server, raw)

    bodies = received.split(b"\r\n\r\n")[1:]
    assert received.count(b"HTTP/1.1 200 OK") == 3
    assert [b.split(b"HTTP/1.1")[0] for b in bodies] == [b"POST /a one", b"POST /b two", b"GET /c "]


async def test_expect_100_continue_is_answered_before_the_body_is_sent(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(
        b"PUT /big HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 4\r\n\r\n"
    )

    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
    writer.write(b"data")
    final = await asyncio.wait_for(reader.readuntil(b"PUT /big data"), 5.0)
    writer.close()

    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert final.startswith(b"HTTP/1.1 200 OK")


async def test_a_malformed_request_gets_400_and_the_connection_closes(server: int) -> None:
    received = await exchange(server, b"NOT HTTP AT ALL\r\n\r\n")

    assert received.startswith(b"HTTP/1.1 400 Bad Request")
    assert b"malformed HTTP request" in received


async def test_a_streamed_fallback_response_is_sent_chunked(server: int) -> None:
    raw = b"GET /stream HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"

    received = await exchange(server, raw)

    head, _, body = received.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head
    assert body == b"4\r\none \r\n4\r\ntwo \r\n5\r\nthree\r\n0\r\n\r\n"


async def test_head_gets_the_headers_and_no_body(server: int) -> None:
    raw = b"HEAD /x HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"

    received = await exchange(server, raw)

    head, _, body = received.partition(b"\r\n\r\n")
    assert b"content-length: 8" in head  # what GET would have sent: "HEAD /x "
    assert body == b""


async def test_a_body_above_the_limit_gets_413_before_it_is_all_read() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    running = Server(streaming_app, max_body_bytes=1000)
    await running.start(sock)
    try:
        received = await exchange(
            int(sock.getsockname()[1]),
            b"POST /up HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n" + b"x" * 2000,
        )
    finally:
        await running.stop(grace=1.0)

    assert received.startswith(b"HTTP/1.1 413 Request Entity Too Large")
    assert received.endswith(b"request body larger than 1000 bytes\n")


async def test_connection_close_from_the_client_closes_after_the_answer(server: int) -> None:
    received = await exchange(server, b"GET /a HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")

    assert received.count(b"HTTP/1.1 200 OK") == 1  # and the server closed: exchange returned


async def test_a_websocket_upgrade_is_refused_with_501_not_a_closed_connection(
    server: int,
) -> None:
    raw = (
        b"GET /chat HTTP/1.1\r\nhost: orders.shop-dev.localhost\r\nconnection: Upgrade\r\n"
        b"upgrade: websocket\r\nsec-websocket-version: 13\r\n"
        b"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )

    received = await exchange(server, raw)

    assert received.startswith(b"HTTP/1.1 501 "), received
    assert b"WebSocket" in received.split(b"\r\n\r\n", 1)[1]
