"""Keep-alive pools on real loopback sockets: reuse, an origin closing idle connections,
the one retry a stale connection gets (and the failures that get none), connect and
exchange timeouts, cancellation, the idle limit, and one pool per origin."""

from __future__ import annotations

import asyncio
import socket

import pytest

from bulut.httpd import Client, OriginError, OriginPool, OriginTimeout, request_head

from .origins import OK, Origin, keep_answering, read_request, reset

WAIT = 5.0  # an upper bound on waiting for an outcome, never a pace


async def test_requests_one_after_another_share_one_connection() -> None:
    async with Origin(lambda n, r, w: keep_answering(r, w)) as origin:
        pool = OriginPool("127.0.0.1", origin.port)
        answers = [await pool.request("GET", f"/{i}") for i in range(3)]

    assert [(a.status, a.body) for a in answers] == [(200, b"ok")] * 3
    assert origin.connections == 1


async def test_a_connection_the_origin_closed_after_answering_is_not_used_again() -> None:
    async def once(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK)  # keep-alive as far as the client knows, then the idle close

    async with Origin(once) as origin:
        pool = OriginPool("127.0.0.1", origin.port)
        first = await pool.request("GET", "/")
        second = await pool.request("GET", "/")

    assert (first.status, second.status) == (200, 200)
    assert origin.connections == 2


async def test_a_reused_connection_closed_before_any_answer_byte_is_retried_on_a_fresh_one() -> (
    None
):
    requests: list[bytes] = []

    async def closes_while_asked(
        n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if n == 1:
            requests.append(await read_request(reader))
            writer.write(OK)
            requests.append(await read_request(reader))  # the race: it closes instead
            return
        while request := await read_request(reader):
            requests.append(request)
            writer.write(OK)

    async with Origin(closes_while_asked) as origin:
        pool = OriginPool("127.0.0.1", origin.port)
        first = await pool.request("POST", "/", body=b"one")
        second = await pool.request("POST", "/", body=b"two")

    assert (first.status, second.status) == (200, 200)
    assert origin.connections == 2
    assert [r.rpartition(b"\r\n\r\n")[2] for r in requests] == [b"one", b"two", b"two"]


async def test_a_fresh_connection_reset_before_any_answer_byte_is_not_retried() -> None:
    async def crash(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        reset(writer)

    async with Origin(crash) as origin:
        with pytest.raises(OriginError) as failed:
            await OriginPool("127.0.0.1", origin.port).request("GET", "/")

    assert failed.value.retryable is True  # the caller decides (the gateway: another instance)
    assert origin.connections == 1


async def test_a_connection_cut_after_part_of_the_answer_is_not_retried() -> None:
    async def cut(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK)
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")

    async with Origin(cut) as origin:
        pool = OriginPool("127.0.0.1", origin.port)
        await pool.request("GET", "/")
        with pytest.raises(OriginError) as failed:
            await pool.request("GET", "/")

    assert failed.value.retryable is False
    assert origin.connections == 1


async def test_an_origin_nobody_listens_on_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])  # bound, never listening: connections are refused
        with pytest.raises(OriginError) as failed:
            await OriginPool("127.0.0.1", port).request("GET", "/")

    assert failed.value.http_status == 502
    assert failed.value.message.startswith(f"127.0.0.1:{port} is unreachable")


async def test_an_origin_that_accepts_no_connection_in_time_times_out() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(0)
        port = int(sock.getsockname()[1])
        fillers = [socket.socket() for _ in range(2)]
        for filler in fillers:  # the backlog fills and nobody accepts
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        try:
            with pytest.raises(OriginTimeout) as failed:
                await OriginPool("127.0.0.1", port, connect_timeout=0.2).connect()
        finally:
            for filler in fillers:
                filler.close()

    assert "accepted no connection in 0.2 s" in failed.value.message


async def test_an_exchange_that_times_out_leaves_no_connection_behind() -> None:
    async def slow_first(
        n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if n == 1:
            await read_request(reader)
            await reader.read()  # never answers; returns when the client drops it
            return
        await keep_answering(reader, writer)

    async with Origin(slow_first) as origin:
        pool = OriginPool("127.0.0.1", origin.port)
        with pytest.raises(OriginTimeout):
            await pool.request("GET", "/", total=0.1)
        after = await pool.request("GET", "/")

    assert after.status == 200
    assert origin.connections == 2


async def test_a_cancelled_request_closes_its_connection() -> None:
    asked = asyncio.Event()
    dropped = asyncio.Event()

    async def silent(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        asked.set()
        if await reader.read() == b"":
            dropped.set()

    async with Origin(silent) as origin:
        pool = OriginPool("127.0.0.1", origin.port)
        request = asyncio.ensure_future(pool.request("GET", "/"))
        await asyncio.wait_for(asked.wait(), WAIT)
        request.cancel()
        await asyncio.wait_for(dropped.wait(), WAIT)

    assert request.cancelled()
    assert pool.idle() is None


async def test_closing_a_pool_closes_its_idle_connections() -> None:
    closed = asyncio.Event()

    async def answering(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await keep_answering(reader, writer)
        closed.set()

    async with Origin(answering) as origin:
        pool = OriginPool("127.0.0.1", origin.port)
        await pool.request("GET", "/")
        pool.close()
        await asyncio.wait_for(closed.wait(), WAIT)

    assert pool.idle() is None


async def test_connections_beyond_the_idle_limit_are_closed_when_their_answer_ends() -> None:
    both_asked = asyncio.Barrier(2)
    closed = asyncio.Event()

    async def answer_together(
        n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        await both_asked.wait()  # two requests at once: two connections
        writer.write(OK)
        await keep_answering(reader, writer)
        closed.set()

    async with Origin(answer_together) as origin:
        pool = OriginPool("127.0.0.1", origin.port, max_idle=1)
        await asyncio.gather(pool.request("GET", "/a"), pool.request("GET", "/b"))
        await asyncio.wait_for(closed.wait(), WAIT)
        third = await pool.request("GET", "/c")

    assert third.status == 200
    assert origin.connections == 2  # the one kept served the third request


async def test_the_client_keeps_one_pool_per_origin_and_sends_the_host_it_is_given() -> None:
    heads: list[bytes] = []
    closed = asyncio.Barrier(3)

    async def recording(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while request := await read_request(reader):
            heads.append(request.split(b"\r\n")[1])
            writer.write(OK)
        await closed.wait()

    client = Client()
    async with Origin(recording) as one, Origin(recording) as two:
        for origin in (one, two, one):
            await client.pool("127.0.0.1", origin.port).request("GET", "/", host="svc.local")
        await client.pool("127.0.0.1", two.port).request("GET", "/")
        client.close()
        await asyncio.wait_for(closed.wait(), WAIT)  # both origins saw their connection close

    assert (one.connections, two.connections) == (1, 1)
    assert heads == [b"host: svc.local"] * 3 + [f"host: 127.0.0.1:{two.port}".encode()]


def test_a_request_head_names_the_host_and_frames_the_body() -> None:
    sized = request_head("POST", "/p?q=1", "svc", [(b"ce-id", b"1")], 2)
    streamed = request_head(b"PUT", b"/", b"svc", [], None)

    assert sized == b"POST /p?q=1 HTTP/1.1\r\nhost: svc\r\nce-id: 1\r\ncontent-length: 2\r\n\r\n"
    assert streamed == b"PUT / HTTP/1.1\r\nhost: svc\r\ntransfer-encoding: chunked\r\n\r\n"
