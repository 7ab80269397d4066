"""Requests handed to a server of the same process: the server answers them as it answers a
socket's (same request seen, same response back), applies its limits, and sees the client
go when the exchange's time runs out; what cannot go in-process goes over the socket."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bulut.httpd import Client, InProcessPool, OriginPool, OriginTimeout, Reply, Request, Server

Scope = dict[str, Any]
NOBODY_LISTENS = 9  # the discard port: an in-process pool never connects to its address
gone: list[dict[str, Any]] = []  # what ``/never`` received after its body


async def echo(scope: Scope, receive: Any, send: Any) -> None:
    """Answers what it saw: method, target, headers, client address and body; ``/stream``
    in chunks; ``/never`` not at all (it waits for the client to go, and says so)."""
    body = (await receive())["body"]
    if scope["path"] == "/never":
        gone.append(await receive())
        return
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"one ", b"two"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    seen = [scope["method"], scope["raw_path"].decode(), scope["client"][0], body.decode()]
    seen += [f"{name.decode()}={value.decode()}" for name, value in scope["headers"]]
    await send({"type": "http.response.start", "status": 201, "headers": [(b"x-seen", b"yes")]})
    await send({"type": "http.response.body", "body": "\n".join(seen).encode()})


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    running = Server(echo, max_body_bytes=16)
    await running.start(sock)
    yield running
    await running.stop(grace=1.0)


async def test_the_server_answers_an_in_process_request_as_it_answers_a_sockets(
    server: Server,
) -> None:
    assert server.server_address is not None
    port = server.server_address[1]
    headers = [(b"Ce-Id", b"1"), (b"prefer", b"reply")]
    over_socket = await OriginPool("127.0.0.1", port).request(
        "POST", "/a?b=c", host="svc.localhost", headers=headers, body=b"hello"
    )
    in_process = await InProcessPool(server, "127.0.0.1", NOBODY_LISTENS).request(
        "POST", "/a?b=c", host="svc.localhost", headers=headers, body=b"hello"
    )

    assert (in_process.status, in_process.headers, in_process.body) == (
        over_socket.status,
        over_socket.headers,
        over_socket.body,
    )
    assert in_process.body.decode().splitlines() == [
        "POST",
        "/a",
        "127.0.0.1",
        "hello",
        "host=svc.localhost",
        "ce-id=1",
        "prefer=reply",
        "content-length=5",
    ]


async def test_a_streamed_response_arrives_whole(server: Server) -> None:
    answer = await InProcessPool(server, "127.0.0.1", NOBODY_LISTENS).request("GET", "/stream")

    assert (answer.status, answer.body) == (200, b"one two")


async def test_a_native_handler_answers_through_the_same_connection() -> None:
    class Accepting:
        def handle_request(self, request: Request, reply: Reply) -> None:
            reply.respond(202, [], b"")

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    running = Server(Accepting())
    await running.start(sock)
    try:
        answer = await InProcessPool(running, "127.0.0.1", NOBODY_LISTENS).request("POST", "/")
    finally:
        await running.stop(grace=1.0)

    assert (answer.status, answer.body) == (202, b"")


async def test_the_servers_limits_refuse_what_they_refuse_on_a_socket(server: Server) -> None:
    pool = InProcessPool(server, "127.0.0.1", NOBODY_LISTENS)
    too_large = await pool.request("POST", "/", body=b"x" * 17)
    too_many = await pool.request("GET", "/", headers=[(b"x-n", b"1")] * 101)
    too_long = await pool.request("GET", "/" + "a" * 9000)

    assert (too_large.status, too_large.body) == (413, b"request body larger than 16 bytes\n")
    assert (too_many.status, too_many.body) == (431, b"more than 100 request header fields\n")
    assert (too_long.status, too_long.body) == (414, b"request target longer than 8192 bytes\n")


async def test_when_the_exchange_times_out_the_server_sees_the_client_go(server: Server) -> None:
    gone.clear()
    pool = InProcessPool(server, "127.0.0.1", NOBODY_LISTENS)

    with pytest.raises(OriginTimeout, match="no whole response in time"):
        await pool.request("GET", "/never", total=0.05)
    async with asyncio.timeout(5.0):
        while not gone:
            await asyncio.sleep(0.01)

    assert gone == [{"type": "http.disconnect"}]


async def test_a_streamed_body_or_a_first_byte_limit_goes_over_the_socket(server: Server) -> None:
    assert server.server_address is not None
    pool = InProcessPool(server, "127.0.0.1", server.server_address[1])

    async def parts() -> AsyncIterator[bytes]:
        yield b"ab"

    streamed = await pool.request("POST", "/s", body=parts())
    timed = await pool.request("GET", "/t", response_start=5.0)

    assert streamed.body.decode().splitlines()[3] == "ab"
    assert timed.status == 201
    assert pool.idle() is not None  # a socket's connection, kept for the next request


async def test_a_client_sends_to_the_pool_it_was_given_for_an_address(server: Server) -> None:
    client = Client()
    pool = InProcessPool(server, "127.0.0.1", NOBODY_LISTENS)
    client.use(pool)

    assert client.pool("127.0.0.1", NOBODY_LISTENS) is pool
    assert (await client.pool("127.0.0.1", NOBODY_LISTENS).request("GET", "/")).status == 201
