"""One connection to an origin on a real loopback socket: responses reach the sink as
they arrive (content-length, chunked, until the close, HEAD, 1xx), failures say whether
a response byte came, the three timers, and request bodies streamed as chunks."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bulut.httpd import OriginError, OriginPool, OriginTimeout, Response, Server, request_head

from .origins import OK, Origin, keep_answering, read_request, reset

GET = b"GET / HTTP/1.1\r\nhost: origin\r\n\r\n"
WAIT = 5.0  # an upper bound on waiting for an outcome, never a pace


class Recorded:
    """A sink that keeps what arrives and says when the response ended."""

    def __init__(self) -> None:
        self.status = 0
        self.data: list[bytes] = []
        self.keep_alive: bool | None = None
        self.error: OriginError | None = None
        self.arrived = asyncio.Event()
        self.ended = asyncio.Event()

    def response_head(self, status: int) -> None:
        self.status = status

    def response_data(self, data: bytes) -> None:
        self.data.append(data)
        self.arrived.set()

    def response_done(self, keep_alive: bool) -> None:
        self.keep_alive = keep_alive
        self.ended.set()

    def response_failed(self, error: OriginError) -> None:
        self.error = error
        self.ended.set()

    async def end(self) -> Recorded:
        await asyncio.wait_for(self.ended.wait(), WAIT)
        return self


async def sent(
    origin: Origin, *, response_start: float = 0.0, idle: float = 0.0, total: float = 0.0
) -> Recorded:
    """Send a GET on a new connection to ``origin``; the sink once the response ended."""
    connection = await OriginPool("127.0.0.1", origin.port).connect()
    sink = Recorded()
    connection.send(GET, sink, response_start=response_start, idle=idle, total=total)
    return await sink.end()


async def test_a_content_length_response_reaches_the_sink_and_its_connection_goes_back() -> None:
    async with Origin(lambda n, r, w: keep_answering(r, w)) as origin:
        pool = OriginPool("127.0.0.1", origin.port)
        connection = await pool.connect()
        sink = Recorded()
        connection.send(GET, sink)
        await sink.end()

        assert sink.status == 200
        assert b"".join(sink.data) == OK
        assert sink.keep_alive is True
        assert pool.idle() is connection


async def test_a_chunked_response_reaches_the_sink_chunk_by_chunk() -> None:
    go_on = asyncio.Event()

    async def chunked(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\none \r\n")
        await go_on.wait()
        writer.write(b"3\r\ntwo\r\n0\r\n\r\n")
        await reader.read()

    async with Origin(chunked) as origin:
        connection = await OriginPool("127.0.0.1", origin.port).connect()
        sink = Recorded()
        connection.send(GET, sink)
        await asyncio.wait_for(sink.arrived.wait(), WAIT)
        first = b"".join(sink.data)
        go_on.set()
        await sink.end()

    assert first.endswith(b"4\r\none \r\n")
    assert b"".join(sink.data).endswith(b"3\r\ntwo\r\n0\r\n\r\n")
    assert sink.keep_alive is True


async def test_a_response_taken_whole_is_parsed_once_and_reaches_the_sink_as_a_response() -> None:
    async def chunked(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n")
        writer.write(b"HTTP/1.1 201 Created\r\nX-Final: yes\r\ntransfer-encoding: chunked\r\n\r\n")
        writer.write(b"4\r\none \r\n3\r\ntwo\r\n0\r\n\r\n")
        await reader.read()

    async with Origin(chunked) as origin:
        pool = OriginPool("127.0.0.1", origin.port)
        connection = await pool.connect()
        sink = Recorded()
        connection.send(GET, sink, whole=True)
        await sink.end()
        response = connection.collected()

    assert sink.data == []  # no raw bytes: nothing to parse a second time
    assert (sink.status, sink.keep_alive) == (201, True)
    assert (response.status, response.body) == (201, b"one two")
    assert response.headers == [(b"x-final", b"yes"), (b"transfer-encoding", b"chunked")]


async def test_a_response_without_a_length_is_whole_when_the_origin_closes() -> None:
    async def until_close(
        n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it")

    async with Origin(until_close) as origin:
        sink = await sent(origin)

    assert sink.error is None
    assert b"".join(sink.data).endswith(b"\r\n\r\nall of it")
    assert sink.keep_alive is False


async def test_informational_answers_pass_and_the_final_response_is_kept() -> None:
    async def early_hints(
        n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n")
        writer.write(b"HTTP/1.1 201 Created\r\nx-final: yes\r\ncontent-length: 4\r\n\r\ndone")
        await reader.read()

    async with Origin(early_hints) as origin:
        response = await OriginPool("127.0.0.1", origin.port).request("POST", "/")

    assert response.status == 201
    assert response.headers == [(b"x-final", b"yes"), (b"content-length", b"4")]
    assert response.body == b"done"


async def test_the_answer_to_a_head_has_no_body_whatever_its_length_says() -> None:
    async def head_then_get(
        n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n")
        await keep_answering(reader, writer)

    async with Origin(head_then_get) as origin:
        pool = OriginPool("127.0.0.1", origin.port)
        head = await pool.request("HEAD", "/")
        after = await pool.request("GET", "/")

    assert (head.status, head.body) == (200, b"")
    assert (after.status, after.body) == (200, b"ok")
    assert origin.connections == 1


async def test_a_reset_before_the_first_byte_fails_retryable_with_502() -> None:
    async def crash(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        reset(writer)

    async with Origin(crash) as origin:
        sink = await sent(origin)

    assert isinstance(sink.error, OriginError)
    assert sink.error.retryable is True
    assert sink.error.http_status == 502
    assert sink.data == []


async def test_a_close_after_part_of_the_response_fails_and_is_not_retryable() -> None:
    async def cut(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")

    async with Origin(cut) as origin:
        sink = await sent(origin)

    assert isinstance(sink.error, OriginError)
    assert sink.error.retryable is False
    assert "closed the connection before a whole response" in sink.error.message


async def test_bytes_that_are_not_http_fail_the_exchange() -> None:
    async def garbage(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await reader.read()

    async with Origin(garbage) as origin:
        sink = await sent(origin)

    assert isinstance(sink.error, OriginError)
    assert sink.error.message.startswith(f"malformed response from 127.0.0.1:{origin.port}")


async def test_a_late_first_byte_times_out_with_504_and_the_connection_is_dropped() -> None:
    dropped = asyncio.Event()

    async def silent(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if await reader.read() == b"":
            dropped.set()

    async with Origin(silent) as origin:
        sink = await sent(origin, response_start=0.05)
        await asyncio.wait_for(dropped.wait(), WAIT)

    assert isinstance(sink.error, OriginTimeout)
    assert sink.error.http_status == 504
    assert sink.error.retryable is False
    assert "no response byte in time" in sink.error.message


def trickle(count: int, gap: float) -> Any:
    """A script answering with ``count`` chunks ``gap`` seconds apart (then the end)."""

    async def script(n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        for _ in range(count):
            writer.write(b"1\r\nx\r\n")
            await asyncio.sleep(gap)
        writer.write(b"0\r\n\r\n")
        await reader.read()

    return script


async def test_the_idle_timer_cuts_a_response_that_stops_but_not_one_that_keeps_on() -> None:
    async with Origin(trickle(1, 30.0)) as stops, Origin(trickle(6, 0.1)) as flows:
        stopped = await sent(stops, idle=0.3)
        flowed = await sent(flows, idle=0.5)

    assert isinstance(stopped.error, OriginTimeout)
    assert "sent nothing for 0.3 s" in stopped.error.message
    assert b"1\r\nx\r\n" in b"".join(stopped.data)  # it had begun: cut short, not retryable
    assert flowed.error is None
    assert b"".join(flowed.data).count(b"1\r\nx\r\n") == 6


async def test_the_whole_exchange_timer_cuts_a_response_that_never_ends() -> None:
    async with Origin(trickle(1000, 0.02)) as origin:
        sink = await sent(origin, total=0.3)

    assert isinstance(sink.error, OriginTimeout)
    assert "no whole response in time" in sink.error.message
    assert sink.data  # bytes kept coming: only the whole-exchange timer ends it


async def echo_digest(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with the request's transfer-encoding, body length and SHA-256."""
    body = (await receive())["body"]
    encoding = dict(scope["headers"]).get(b"transfer-encoding", b"-")
    text = b"%s %d %s" % (encoding, len(body), hashlib.sha256(body).hexdigest().encode())
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": text})


@pytest.fixture
async def echo_server() -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = Server(echo_digest)
    await server.start(sock)
    yield int(sock.getsockname()[1])
    await server.stop(grace=1.0)


async def test_a_streamed_request_body_arrives_whole_in_chunks(echo_server: int) -> None:
    parts = [b"a" * 1000, b"", b"b" * (4 * 1024 * 1024), b"c"]  # 4 MiB: the socket fills up

    async def body() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    response = await OriginPool("127.0.0.1", echo_server).request("PUT", "/", body=body())

    whole = b"".join(parts)
    expected = b"chunked %d %s" % (len(whole), hashlib.sha256(whole).hexdigest().encode())
    assert (response.status, response.body) == (200, expected)


async def test_an_origin_answering_before_the_streamed_body_ends_gets_no_more() -> None:
    received: list[bytes] = []
    finished = asyncio.Event()

    async def refuse_early(
        n: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        received.append(await reader.readuntil(b"first\r\n"))
        writer.write(b"HTTP/1.1 413 Content Too Large\r\ncontent-length: 0\r\n\r\n")
        received.append(await reader.read())
        finished.set()

    async with Origin(refuse_early) as origin:
        pool = OriginPool("127.0.0.1", origin.port)
        connection = await pool.connect()
        answer: asyncio.Future[Response] = asyncio.get_running_loop().create_future()

        async def body() -> AsyncIterator[bytes]:
            yield b"first"
            await answer  # the 413 arrived while the body was still being written
            yield b"second"

        head = request_head("POST", "/", "origin", [], None)
        await asyncio.wait_for(connection.stream(head, body(), connection.collector(answer)), WAIT)
        await asyncio.wait_for(finished.wait(), WAIT)

    assert answer.result().status == 413
    assert b"second" not in b"".join(received)
    assert connection.closed
    assert pool.idle() is None  # the origin stopped reading mid-body: never reused
