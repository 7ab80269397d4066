"""A lean keep-alive HTTP/1.1 client for deliveries (asyncio + httptools).

Deliveries are small POSTs to a handful of loopback hosts, thousands a second; a
general client such as httpx costs about a millisecond per request, more than the
whole exchange with a raw ASGI subscriber. This pool keeps idle connections per
``(host, port)``, writes one request per connection at a time and parses answers
with httptools (uvicorn's parser). A request that fails on a reused connection
before any answer arrives is retried once on a fresh one (the server may have
closed it while idle).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import httptools

Header = tuple[bytes, bytes]


@dataclass(frozen=True, slots=True)
class Response:
    """A complete answer; header names are lower-case text."""

    status: int
    headers: dict[str, str]
    body: bytes


class _Connection(asyncio.Protocol):
    """One TCP connection carrying one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Response] | None = None
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.closed = False
        self.keep_alive = True
        self.answered = False
        self.timer: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ConnectionError(f"bad HTTP answer: {error}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionError("connection closed before an answer"))

    # -- httptools callbacks
    def on_message_begin(self) -> None:
        self.headers = {}
        self.body = []
        self.answered = True

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        self._stop_timer()
        waiter = self.waiter
        self.waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_result(
                Response(self.parser.get_status_code(), self.headers, b"".join(self.body))
            )

    # -- use
    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _timed_out(self) -> None:
        self.timer = None
        self._fail(TimeoutError("no answer in time"))
        self.close()

    def _fail(self, error: Exception) -> None:
        self._stop_timer()
        waiter = self.waiter
        self.waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def send(self, payload: bytes, timeout: float | None) -> asyncio.Future[Response]:
        """Write one request; the future fails with ``TimeoutError`` after ``timeout``."""
        assert self.transport is not None
        self.answered = False
        loop = asyncio.get_running_loop()
        waiter = self.waiter = loop.create_future()
        if timeout is not None:  # a timer, not wait_for: no extra future per request
            self.timer = loop.call_later(timeout, self._timed_out)
        self.transport.write(payload)
        return waiter


def _request_bytes(
    method: str, path: str, host_header: str, headers: Sequence[Header], body: bytes
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1\r\nhost: {host_header}\r\n".encode("latin-1")]
    for name, value in headers:
        lines.append(name + b": " + value + b"\r\n")
    lines.append(b"content-length: %d\r\n\r\n" % len(body))
    lines.append(body)
    return b"".join(lines)


class ConnectionPool:
    """Keep-alive connections per ``(host, port)``; ``max_idle`` per address."""

    def __init__(self, *, max_idle: int = 512, connect_timeout: float = 5.0) -> None:
        self._idle: defaultdict[tuple[str, int], list[_Connection]] = defaultdict(list)
        self._max_idle = max_idle
        self._connect_timeout = connect_timeout

    async def _connect(self, host: str, port: int) -> _Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await asyncio.wait_for(
            loop.create_connection(_Connection, host, port), self._connect_timeout
        )
        return protocol

    async def request(
        self,
        method: str,
        host: str,
        port: int,
        path: str,
        *,
        host_header: str,
        headers: Sequence[Header] = (),
        body: bytes = b"",
        timeout: float | None = None,
    ) -> Response:
        """Send one request to ``host:port`` with ``Host: host_header``; raise on no answer.

        Raises ``ConnectionError``/``OSError`` when nothing was answered and
        ``TimeoutError`` when ``timeout`` (seconds, whole exchange) ran out.
        """
        payload = _request_bytes(method, path, host_header, headers, body)
        address = (host, port)
        idle = self._idle[address]
        while idle:
            connection = idle.pop()
            if connection.closed:
                continue
            try:
                return await self._exchange(address, connection, payload, timeout)
            except ConnectionError:
                if connection.answered:
                    raise
                # the server closed an idle connection: try again on a fresh one
                break
        connection = await self._connect(host, port)
        return await self._exchange(address, connection, payload, timeout)

    async def _exchange(
        self,
        address: tuple[str, int],
        connection: _Connection,
        payload: bytes,
        timeout: float | None,
    ) -> Response:
        try:
            response = await connection.send(payload, timeout)
        except BaseException:
            connection.close()
            raise
        if connection.keep_alive and not connection.closed:
            idle = self._idle[address]
            if len(idle) < self._max_idle:
                idle.append(connection)
            else:
                connection.close()
        else:
            connection.close()
        return response

    async def aclose(self) -> None:
        """Close every idle connection."""
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()
        await asyncio.sleep(0)
