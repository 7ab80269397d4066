"""One client connection: httptools parses requests, answers go out in order.

Every request is kept within the server's limits while it is parsed, so no client can
make the server buffer without bound: a target above ``max_url_bytes`` is 414, a header
block above ``max_header_bytes`` (counted as it arrives, terminated or not) or more than
``max_headers`` fields is 431, a second ``Host`` is 400, a Content-Length above the
route's :meth:`~bulut.httpd.Server.body_limit` is 413 before any body is read (and
instead of ``100 Continue``), a chunked body is cut off with 413 past it, and an upgrade
(WebSocket, h2c) or ``CONNECT`` gets one 501. Each refusal closes the connection.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING, NoReturn, Protocol

import httptools

from .limits import body_too_large, head_too_large, target_too_long, too_many_fields
from .messages import Request, text_response, whole_response

if TYPE_CHECKING:
    from .server import Server

MAX_PIPELINED = 32
LINGER_SECONDS = 2.0  # after a refusal, input is read and dropped this long at most
TRIM_AFTER_BYTES = 1024 * 1024  # a body this large: the server returns freed memory soon
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
UPGRADE_REFUSED = "upgrades (WebSocket, h2c) and CONNECT are not supported by the local data plane"


class Answer(Protocol):
    """What is answering a connection's current request (for flow control and hang-ups)."""

    def pause(self) -> None:
        """The client reads slower than we write."""

    def resume(self) -> None:
        """The client caught up."""

    def client_gone(self) -> None:
        """The client closed the connection."""


class ClientConnection(asyncio.Protocol):
    """One client connection: parses requests and answers them in order."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.client: tuple[str, int] = ("", 0)
        self.closed = False
        self.busy = False
        self.keep_alive = True  # of the request being answered
        self.idle_since = time.monotonic()
        self.pending: deque[Request] = deque()
        self.current: Answer | None = None
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._size = 0
        self._host = b""
        self._hosts = 0
        self._limit = server.max_body_bytes
        self._head = False  # between the first byte of a request and its headers' end
        self._head_bytes = 0
        self._refused = False
        self._paused = False

    # -- asyncio.Protocol --------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.client = (str(peer[0]), int(peer[1]))
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        current, self.current = self.current, None
        self.pending.clear()
        if current is not None:
            current.client_gone()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering after a refusal: dropped
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(501, UPGRADE_REFUSED)
        except httptools.HttpParserError as error:
            self._refuse(400, f"malformed HTTP request: {error}")
        if self._head and not self.closed:  # httptools holds an unfinished header itself
            self._head_bytes += len(data)
            if self._head_bytes > self.server.max_header_bytes:
                self._refuse(*head_too_large(self.server.max_header_bytes))

    def pause_writing(self) -> None:
        if self.current is not None:
            self.current.pause()

    def resume_writing(self) -> None:
        if self.current is not None:
            self.current.resume()

    # -- httptools callbacks ----------------------------------------------
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._body = []
        self._size = 0
        self._host = b""
        self._hosts = 0
        self._head = True
        self._head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > self.server.max_url_bytes:
            self._stop(*target_too_long(self.server.max_url_bytes))

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        self._headers.append((name, value))
        if name == b"host":
            self._host = value
            self._hosts += 1
        if len(self._headers) > self.server.max_headers:
            self._stop(*too_many_fields(self.server.max_headers))

    def on_headers_complete(self) -> None:
        self._head = False
        if self._hosts > 1:
            self._stop(400, "a request may carry one Host header, this one has several")
        parser = self.parser
        if parser.should_upgrade() or parser.get_method() == b"CONNECT":
            self._stop(501, UPGRADE_REFUSED)
        length: bytes | None = None
        body = expect = False
        for name, value in self._headers:
            if name == b"content-length":
                length, body = value, True
            elif name == b"transfer-encoding":
                body = True
            elif name == b"expect" and value.lower() == b"100-continue":
                expect = True
        if body:  # the route's limit, known before any of the body is read
            self._limit = limit = self.server.body_limit(self._host, self._url, self._headers)
            if length is not None and length.isdigit() and int(length) > limit:
                self._stop(*body_too_large(limit))
        if expect and not self.busy:
            self.write(_CONTINUE)

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > self._limit:
            self._stop(*body_too_large(self._limit))
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self.closed:
            return
        if self._size > TRIM_AFTER_BYTES:
            self.server.big_body_done()
        request = Request(
            self.parser.get_method(),
            self._url,
            self._headers,
            b"".join(self._body) if len(self._body) != 1 else self._body[0],
            host=self._host,
            keep_alive=self.parser.should_keep_alive(),
            client=self.client,
        )
        if self.busy:
            self.pending.append(request)
            if len(self.pending) >= MAX_PIPELINED and self.transport is not None:
                self._paused = True
                self.transport.pause_reading()
            return
        self._answer(request)

    def _answer(self, request: Request) -> None:
        self.busy = True
        self.keep_alive = request.keep_alive
        self.server.dispatch(self, request)

    # -- answering ---------------------------------------------------------
    def write(self, data: bytes) -> None:
        """Bytes to the client (dropped once it has gone)."""
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    def respond(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """A whole response to the current request (the :class:`Reply` of native handlers)."""
        self.write(whole_response(status, headers, body))
        self.finish(self.keep_alive)

    def respond_text(self, status: int, text: str) -> None:
        """A plain-text answer to the current request."""
        self.write(text_response(status, text))
        self.finish(self.keep_alive)

    def finish(self, keep_alive: bool) -> None:
        """The current response is complete; go on with the next pipelined request."""
        self.current = None
        self.busy = False
        self.idle_since = time.monotonic()
        if self.closed:
            return
        if not keep_alive:
            self.close()
            return
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        if self.pending:
            self._answer(self.pending.popleft())

    def _refuse(self, status: int, text: str) -> None:
        if self._refused:
            return  # one answer, however the parser goes on to fail
        self._refused = True
        if self.busy:
            self.close()
            return
        self.write(text_response(status, text))
        self._linger()

    def _linger(self) -> None:
        """Close after the answer, reading (and dropping) what the client still sends.

        Closing a socket with unread input resets it, and the client may lose the answer
        it was sent (a 413 while it is still uploading): like nginx's lingering close, the
        write side is shut, input is discarded, and the connection is dropped when the
        client closes or after ``LINGER_SECONDS``.
        """
        transport = self.transport
        if self.closed or transport is None or not transport.can_write_eof():
            self.close()
            return
        self.closed = True  # nothing more is written or parsed
        self.server.connections.discard(self)
        transport.write_eof()
        asyncio.get_running_loop().call_later(LINGER_SECONDS, transport.abort)

    def _stop(self, status: int, text: str) -> NoReturn:
        """Refuse the request being parsed and stop parsing this connection."""
        self._refuse(status, text)
        raise httptools.HttpParserCallbackError(text)

    def close(self) -> None:
        """Close after what was written is sent."""
        if not self.closed and self.transport is not None:
            self.closed = True
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection now (a response that cannot be finished)."""
        if self.transport is not None:
            self.closed = True
            self.transport.abort()
