"""A lean keep-alive HTTP/1.1 client from the data plane to one instance.

The warm path is the product, so this is a bare ``asyncio.Protocol`` with httptools'
response parser and a per-instance pool of idle connections: no URL parsing, no header
objects, no body re-encoding. A response is handed to a :class:`ResponseSink` as the
bytes arrive, so the gateway streams it to the client unchanged (its framing included)
and learns only what it needs: the status, the end of the message and whether the
connection may be reused. A connection that breaks before a whole response arrived
reports :class:`UpstreamError` (the gateway answers 502: the instance crashed or closed
on us). :meth:`Upstream.request` buffers a whole response for callers that want one
(readiness probes).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Protocol, cast

import httptools

from bulut.errors import InstanceError

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
        b"expect",  # the gateway answered 100-continue itself and sends the whole body
    }
)


class UpstreamError(InstanceError):
    """The instance closed the connection or was unreachable before a full response."""


class ResponseSink(Protocol):
    """Where one response goes, as it arrives."""

    def response_head(self, status: int) -> None:
        """The status line and headers were parsed (they are in the next data)."""

    def response_data(self, data: bytes) -> None:
        """Raw response bytes, head and framing included, in order."""

    def response_done(self, keep_alive: bool) -> None:
        """The whole response arrived; ``keep_alive`` False: the instance closes."""

    def response_failed(self, error: UpstreamError, retryable: bool) -> None:
        """The connection broke first; ``retryable``: not one response byte was seen."""


@dataclass
class Response:
    """A buffered response from an instance."""

    status: int
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""


class Connection(asyncio.Protocol):
    """One keep-alive connection to an instance; one request at a time."""

    def __init__(self, pool: Upstream) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.reused = False
        self._sink: ResponseSink | None = None
        self._received = False
        self._head_only = False
        self._status = 0
        self._keep_alive = True
        self._informational = False
        self._complete = False

    # -- asyncio.Protocol --------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        sink = self._sink
        if sink is None:  # bytes nobody asked for: the connection's state is unknown
            self.abort()
            return
        self._received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._sink = None
            self.abort()
            sink.response_failed(UpstreamError(f"malformed response from instance: {error}"), False)
            return
        sink.response_data(data)
        if self._complete:
            self._sink = None
            keep_alive = self._keep_alive
            if keep_alive:
                self.pool.release(self)
            else:
                self.abort()
            sink.response_done(keep_alive)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        sink, self._sink = self._sink, None
        if sink is None:
            return
        if self._status and not self._keep_alive and not self._complete:
            sink.response_done(False)  # a response delimited by the end of the connection
            return
        retryable = not self._received
        sink.response_failed(
            UpstreamError("instance closed the connection before responding"), retryable
        )

    def pause_writing(self) -> None:  # the instance reads slower than the client sends
        pass

    def resume_writing(self) -> None:
        pass

    # -- httptools callbacks ----------------------------------------------
    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self._informational = True  # 103 Early Hints and friends: forwarded as they are
            return
        self._status = status
        self._keep_alive = self.parser.should_keep_alive()
        sink = self._sink
        if sink is not None:
            sink.response_head(status)
        if self._head_only:
            self._complete = True
            self.parser = httptools.HttpResponseParser(self)  # no body will follow

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        self._complete = True

    # -- use ---------------------------------------------------------------
    def send(self, request: bytes, sink: ResponseSink, *, head_only: bool = False) -> None:
        """Write a whole request; the response goes to ``sink``."""
        assert self.transport is not None
        self._sink = sink
        self._received = False
        self._complete = False
        self._status = 0
        self._keep_alive = True
        self._head_only = head_only
        self.transport.write(request)

    def pause_reading(self) -> None:
        """The client reads slower than the instance writes: stop reading."""
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        """The client caught up."""
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def abort(self) -> None:
        """Drop the connection (after a timeout or an error its state is unknown)."""
        self.closed = True
        self._sink = None
        if self.transport is not None:
            self.transport.abort()


class _Buffer:
    """A :class:`ResponseSink` that keeps the whole response (for probes)."""

    def __init__(self, future: asyncio.Future[Response], connection: Connection) -> None:
        self.future = future
        self.connection = connection
        self.parts: list[bytes] = []

    def response_head(self, status: int) -> None:
        pass

    def response_data(self, data: bytes) -> None:
        self.parts.append(data)

    def response_done(self, keep_alive: bool) -> None:
        if not self.future.done():
            self.future.set_result(parse_response(b"".join(self.parts)))

    def response_failed(self, error: UpstreamError, retryable: bool) -> None:
        if not self.future.done():
            again = retryable and self.connection.reused  # an idle one the instance closed
            self.future.set_exception(_Retry(error) if again else error)


class _Retry(Exception):
    def __init__(self, error: UpstreamError) -> None:
        self.error = error


class Upstream:
    """The connection pool to one instance at ``127.0.0.1:port``."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._idle: list[Connection] = []
        self._closed = False

    def idle(self) -> Connection | None:
        """An open idle connection, taken from the pool, or None (then :meth:`connect`)."""
        idle = self._idle
        while idle:
            connection = idle.pop()
            if not connection.closed:
                connection.reused = True
                return connection
        return None

    async def connect(self) -> Connection:
        """A new connection to the instance."""
        loop = asyncio.get_running_loop()
        try:
            transport, protocol = await loop.create_connection(
                lambda: Connection(self), self.host, self.port
            )
        except OSError as error:
            raise UpstreamError(f"instance on port {self.port} is unreachable: {error}") from None
        if protocol.transport is None:  # uvloop may call connection_made a little later
            protocol.transport = transport
        return protocol

    async def request(self, request: bytes) -> Response:
        """Send one serialised request and buffer the response (reuses idle connections)."""
        loop = asyncio.get_running_loop()
        while True:
            connection = self.idle() or await self.connect()
            future: asyncio.Future[Response] = loop.create_future()
            connection.send(request, _Buffer(future, connection))
            try:
                return await future
            except _Retry:
                continue  # the instance closed an idle connection: try a fresh one
            except asyncio.CancelledError:
                connection.abort()
                raise

    def release(self, connection: Connection) -> None:
        """Put a connection whose response is complete back in the pool."""
        if self._closed or connection.closed:
            connection.abort()
        else:
            self._idle.append(connection)

    def close(self) -> None:
        """Drop every idle connection."""
        self._closed = True
        for connection in self._idle:
            connection.abort()
        self._idle.clear()


class _Head:
    """httptools callbacks collecting one whole response."""

    def __init__(self) -> None:
        self.response = Response(0)
        self.chunks: list[bytes] = []

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() not in HOP_BY_HOP:
            self.response.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)


def parse_response(raw: bytes) -> Response:
    """A buffered :class:`Response` from the raw bytes of one whole response."""
    head = _Head()
    parser = httptools.HttpResponseParser(head)
    parser.feed_data(raw)
    head.response.status = parser.get_status_code()
    head.response.body = b"".join(head.chunks)
    return head.response


def serialise_request(
    method: str | bytes,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    extra: list[tuple[bytes, bytes]],
) -> bytes:
    """An HTTP/1.1 request with hop-by-hop headers dropped and a content-length."""
    verb = method.encode() if isinstance(method, str) else method
    lines = [verb, b" ", target, b" HTTP/1.1\r\n"]
    for name, value in headers:
        if name.lower() not in HOP_BY_HOP:
            lines += [name, b": ", value, b"\r\n"]
    for name, value in extra:
        lines += [name, b": ", value, b"\r\n"]
    lines += [b"content-length: ", str(len(body)).encode(), b"\r\n\r\n", body]
    return b"".join(lines)
