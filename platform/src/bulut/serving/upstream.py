"""A lean keep-alive HTTP/1.1 client from the data plane to one instance.

The warm path is the product, so this is a bare ``asyncio.Protocol`` with httptools'
response parser and a per-instance pool of idle connections: no URL parsing, no header
objects, no body re-encoding. Bodies are forwarded as the bytes that arrived.
A connection that breaks before a whole response arrived raises :class:`UpstreamError`
(the router answers 502: the instance crashed or closed on us).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import cast

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
    }
)


class UpstreamError(InstanceError):
    """The instance closed the connection or was unreachable before a full response."""


@dataclass
class Response:
    """A buffered response from an instance."""

    status: int
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""


class Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.received_any = False
        self._waiter: asyncio.Future[Response] | None = None
        self._response = Response(0)
        self._chunks: list[bytes] = []
        self._keep_alive = True

    # -- asyncio.Protocol --------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.received_any = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(UpstreamError(f"malformed response from instance: {error}"))
            self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(UpstreamError("instance closed the connection before responding"))

    # -- httptools callbacks ----------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() not in HOP_BY_HOP:
            self._response.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._response.status = self.parser.get_status_code()
        self._keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        response = self._response
        response.body = b"".join(self._chunks)
        self._response = Response(0)
        self._chunks = []
        waiter, self._waiter = self._waiter, None
        if not self._keep_alive:
            self.abort()
        if waiter is not None and not waiter.done():
            waiter.set_result(response)

    # -- use ---------------------------------------------------------------
    def _fail(self, error: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    def abort(self) -> None:
        """Drop the connection (after a timeout its state is unknown)."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    async def exchange(self, request: bytes) -> Response:
        """Write a whole request and wait for the whole response."""
        assert self.transport is not None
        self.received_any = False
        waiter: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        self.transport.write(request)
        try:
            return await waiter
        except asyncio.CancelledError:
            self.abort()
            raise


class Upstream:
    """The connection pool to one instance at ``127.0.0.1:port``."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._idle: list[Connection] = []
        self._closed = False

    async def _connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        try:
            transport, protocol = await loop.create_connection(Connection, self.host, self.port)
        except OSError as error:
            raise UpstreamError(f"instance on port {self.port} is unreachable: {error}") from None
        if protocol.transport is None:  # uvloop may call connection_made a little later
            protocol.transport = transport
        return protocol

    async def request(self, request: bytes) -> Response:
        """Send one serialised request; reuse an idle connection when there is one."""
        while self._idle:
            connection = self._idle.pop()
            if connection.closed:
                continue
            try:
                response = await connection.exchange(request)
            except UpstreamError:
                if connection.received_any:
                    raise
                continue  # the instance closed an idle connection: try a fresh one
            self._release(connection)
            return response
        connection = await self._connect()
        response = await connection.exchange(request)
        self._release(connection)
        return response

    def _release(self, connection: Connection) -> None:
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


def serialise_request(
    method: str,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    extra: list[tuple[bytes, bytes]],
) -> bytes:
    """An HTTP/1.1 request with hop-by-hop headers dropped and a content-length."""
    lines = [method.encode(), b" ", target, b" HTTP/1.1\r\n"]
    for name, value in headers:
        if name.lower() not in HOP_BY_HOP:
            lines += [name, b": ", value, b"\r\n"]
    for name, value in extra:
        lines += [name, b": ", value, b"\r\n"]
    lines += [b"content-length: ", str(len(body)).encode(), b"\r\n\r\n", body]
    return b"".join(lines)
