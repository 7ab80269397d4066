"""The data plane's server keeps every request within the limits proxies set (issue #20,
items 6 and 10): URL, header block, header count, body by Content-Length before any of it
is read (also for ``Expect: 100-continue``), one Host, and one answer to an upgrade."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from bulut.httpd import Server
from bulut.httpd.server import MAX_HEADER_BYTES, MAX_HEADERS, MAX_URL_BYTES

from .test_server import streaming_app
from .wire import exchange


class LimitedServer(Server):
    """A server whose body limit depends on the path (as the gateway's does per route)."""

    def body_limit(self, host: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> int:
        return 100 if target.startswith(b"/small") else self.max_body_bytes


@pytest.fixture
async def server() -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    running = LimitedServer(streaming_app, max_body_bytes=1_000_000)
    await running.start(sock)
    yield int(sock.getsockname()[1])
    await running.stop(grace=1.0)


def status_of(received: bytes) -> int:
    return int(received.split(b" ", 2)[1])


async def test_a_url_longer_than_the_limit_is_414(server: int) -> None:
    path = b"/" + b"a" * MAX_URL_BYTES
    received = await exchange(server, b"GET " + path + b" HTTP/1.1\r\nhost: x\r\n\r\n")
    assert status_of(received) == 414
    ok = await exchange(
        server, b"GET /" + b"a" * 4000 + b" HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )
    assert status_of(ok) == 200


async def test_a_huge_url_sent_in_pieces_is_refused_without_stalling(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(b"GET /")
    piece = b"b" * 65536
    try:
        for _ in range(64):  # 4 MiB: the server answers and closes long before the end
            writer.write(piece)
            await writer.drain()
    except ConnectionError:
        pass
    received = await asyncio.wait_for(reader.read(), 5.0)
    writer.close()
    assert status_of(received) == 414


async def test_an_unterminated_header_block_is_431_once_past_the_limit(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(b"GET / HTTP/1.1\r\nhost: x\r\nx-big: ")
    try:
        for _ in range(64):
            writer.write(b"v" * 65536)
            await writer.drain()
    except ConnectionError:
        pass
    received = await asyncio.wait_for(reader.read(), 5.0)
    writer.close()
    assert status_of(received) == 431


async def test_too_many_headers_is_431(server: int) -> None:
    headers = b"".join(b"ce-x%d: 1\r\n" % n for n in range(MAX_HEADERS + 1))
    received = await exchange(server, b"GET / HTTP/1.1\r\nhost: x\r\n" + headers + b"\r\n")
    assert status_of(received) == 431
    assert MAX_HEADER_BYTES <= 64 * 1024


async def test_a_body_above_the_routes_limit_is_413_from_its_content_length(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(b"POST /small HTTP/1.1\r\nhost: x\r\ncontent-length: 101\r\n\r\n")
    received = await asyncio.wait_for(reader.read(), 5.0)  # no body sent: answered at once
    writer.close()
    assert status_of(received) == 413
    fits = await exchange(
        server,
        b"POST /small HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 3\r\n\r\nabc",
    )
    assert status_of(fits) == 200


async def test_expect_100_continue_with_a_body_too_large_gets_413_not_100(server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(
        b"PUT /big HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 100000000\r\n\r\n"
    )
    received = await asyncio.wait_for(reader.read(), 5.0)
    writer.close()
    assert received.startswith(b"HTTP/1.1 413 ")
    assert b"100 Continue" not in received


async def test_a_chunked_body_above_the_routes_limit_is_413(server: int) -> None:
    chunk = b"%x\r\n%s\r\n" % (200, b"z" * 200)
    received = await exchange(
        server,
        b"POST /small HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
        + chunk
        + b"0\r\n\r\n",
    )
    assert status_of(received) == 413


async def test_two_host_headers_are_a_400(server: int) -> None:
    received = await exchange(server, b"GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n")
    assert status_of(received) == 400
    assert b"Host" in received


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /ws HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: websocket\r\n"
        b"sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        b"POST /h2 HTTP/1.1\r\nhost: x\r\nconnection: Upgrade\r\nupgrade: h2c\r\n"
        b"content-length: 0\r\n\r\n",
        b"CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n",
    ],
)
async def test_an_upgrade_or_connect_gets_exactly_one_501(server: int, raw: bytes) -> None:
    received = await exchange(server, raw)
    assert received.count(b"HTTP/1.1 ") == 1, received
    assert status_of(received) == 501


async def test_with_limits_off_the_server_takes_what_it_otherwise_refuses() -> None:
    """``Settings.request_limits = false``: the baseline bench/bench_limits.py measures."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    unlimited = Server(streaming_app, limits=False)
    await unlimited.start(sock)
    port = int(sock.getsockname()[1])
    try:
        long_url = b"GET /" + b"a" * MAX_URL_BYTES + b" HTTP/1.1\r\nhost: x\r\n"
        many = b"".join(b"x-%d: 1\r\n" % n for n in range(MAX_HEADERS + 1))
        received = await exchange(port, long_url + many + b"connection: close\r\n\r\n")
    finally:
        await unlimited.stop(grace=1.0)
    assert status_of(received) == 200
