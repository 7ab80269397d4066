"""One client connection: httptools parses requests, answers go out in order."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING, Protocol

import httptools

from .messages import Request, text_response, whole_response

if TYPE_CHECKING:
    from .server import Server

MAX_PIPELINED = 32
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
UPGRADE_REFUSED = "upgrades (WebSocket, h2c) are not supported by the local data plane"


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
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(501, UPGRADE_REFUSED)
        except httptools.HttpParserError as error:
            self._refuse(400, f"malformed HTTP request: {error}")

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

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        self._headers.append((name, value))
        if name == b"host":
            self._host = value

    def on_headers_complete(self) -> None:
        if not self.busy:
            for name, value in self._headers:
                if name == b"expect" and value.lower() == b"100-continue":
                    self.write(_CONTINUE)

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > self.server.max_body_bytes:
            self._refuse(413, f"request body larger than {self.server.max_body_bytes} bytes")
            raise httptools.HttpParserCallbackError("body too large")
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self.closed:
            return
        if self.parser.should_upgrade():  # httptools raises HttpParserUpgrade only after this
            self._refuse(501, UPGRADE_REFUSED)
            return
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
        if not self.busy:
            self.write(text_response(status, text))
        self.close()

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
