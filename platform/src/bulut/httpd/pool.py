"""Keep-alive connection pools: one per origin server, and a client holding one per
``(host, port)`` it has talked to.

An :class:`OriginPool` hands out idle connections (:meth:`~OriginPool.idle`), opens new
ones within ``connect_timeout`` (:meth:`~OriginPool.connect`) and takes back those whose
response ended with the connection still usable (the connection gives itself back).
:meth:`OriginPool.request` is the whole exchange for callers that want a buffered
:class:`~bulut.httpd.client.Response`: a request that fails on a reused connection
before any response byte (the origin closed it while it was idle, a race every
keep-alive client meets) is sent once more on a fresh connection. A body given as an
async iterable is streamed (chunked) and never sent twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Sequence

from .client import OriginConnection, OriginError, OriginTimeout, Response
from .messages import Header

CONNECT_TIMEOUT = 5.0
MAX_IDLE = 512


def request_head(
    method: str | bytes,
    target: str | bytes,
    host: str | bytes,
    headers: Sequence[Header],
    length: int | None,
) -> bytes:
    """A request's head: ``Host``, the headers as given, and a ``content-length``
    (``transfer-encoding: chunked`` when ``length`` is None)."""
    verb = method.encode() if isinstance(method, str) else method
    path = target.encode("latin-1") if isinstance(target, str) else target
    name = host.encode("latin-1") if isinstance(host, str) else host
    fields = b"".join([b"%s: %s\r\n" % (field, value) for field, value in headers])
    if length is None:
        return b"%s %s HTTP/1.1\r\nhost: %s\r\n%stransfer-encoding: chunked\r\n\r\n" % (
            verb, path, name, fields,
        )  # fmt: skip
    return b"%s %s HTTP/1.1\r\nhost: %s\r\n%scontent-length: %d\r\n\r\n" % (
        verb, path, name, fields, length,
    )  # fmt: skip


class OriginPool:
    """Keep-alive connections to the origin at ``host:port``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        max_idle: int = MAX_IDLE,
    ) -> None:
        self.host = host
        self.port = port
        self.origin = f"{host}:{port}"
        self.connect_timeout = connect_timeout
        self.max_idle = max_idle
        self._idle: list[OriginConnection] = []
        self._closed = False

    def idle(self) -> OriginConnection | None:
        """An open idle connection, taken from the pool, or None (then :meth:`connect`)."""
        idle = self._idle
        while idle:
            connection = idle.pop()
            if not connection.closed:
                connection.reused = True
                return connection
        return None

    async def connect(self) -> OriginConnection:
        """A new connection; :class:`OriginError` when the origin cannot be reached."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):  # a cancel is never swallowed
                transport, connection = await loop.create_connection(
                    lambda: OriginConnection(self), self.host, self.port
                )
        except TimeoutError:
            message = f"{self.origin} accepted no connection in {self.connect_timeout:g} s"
            raise OriginTimeout(message, retryable=True) from None
        except OSError as error:
            raise OriginError(f"{self.origin} is unreachable: {error}", retryable=True) from None
        if connection.transport is None:  # uvloop may call connection_made a little later
            connection.connection_made(transport)
        return connection

    def release(self, connection: OriginConnection) -> None:
        """Take back a connection whose response is complete (it stays open)."""
        if self._closed or connection.closed or len(self._idle) >= self.max_idle:
            connection.abort()
        else:
            self._idle.append(connection)

    async def request(
        self,
        method: str | bytes,
        target: str | bytes,
        *,
        host: str | bytes | None = None,
        headers: Sequence[Header] = (),
        body: bytes | AsyncIterable[bytes] = b"",
        response_start: float = 0.0,
        idle: float = 0.0,
        total: float = 0.0,
    ) -> Response:
        """One whole exchange (``Host`` is the origin unless given; timeouts in seconds,
        0: none). Raises :class:`OriginError` (:class:`OriginTimeout` for a timer)."""
        name = self.origin if host is None else host
        if not isinstance(body, bytes):
            head = request_head(method, target, name, headers, None)
            return await self._streamed(head, body, response_start, idle, total)
        raw = request_head(method, target, name, headers, len(body)) + body
        head_only = method in ("HEAD", b"HEAD")
        connection = self.idle()
        while True:
            reused = connection is not None
            if connection is None:
                connection = await self.connect()
            try:
                return await connection.fetch(
                    raw, head_only=head_only, response_start=response_start, idle=idle, total=total
                )
            except OriginError as error:
                if not (reused and error.retryable):
                    raise  # it answered something, timed out, or was a fresh connection
                connection = None  # the origin closed it while idle: once more, fresh
            except asyncio.CancelledError:
                connection.abort()  # its state is unknown now
                raise

    async def _streamed(
        self,
        head: bytes,
        body: AsyncIterable[bytes],
        response_start: float,
        idle: float,
        total: float,
    ) -> Response:
        connection = self.idle() or await self.connect()
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        collector = connection.collector(future)
        try:
            await connection.stream(
                head, body, collector, response_start=response_start, idle=idle, total=total
            )
            return await future
        except BaseException:
            connection.abort()
            raise

    def close(self) -> None:
        """Drop every idle connection; connections given back later are dropped too."""
        self._closed = True
        for connection in self._idle:
            connection.abort()
        self._idle.clear()


class Client:
    """Keep-alive pools, one per ``(host, port)``, made on first use:
    ``client.pool(host, port).request(...)``."""

    def __init__(
        self, *, connect_timeout: float = CONNECT_TIMEOUT, max_idle: int = MAX_IDLE
    ) -> None:
        self.connect_timeout = connect_timeout
        self.max_idle = max_idle
        self._pools: dict[tuple[str, int], OriginPool] = {}

    def pool(self, host: str, port: int) -> OriginPool:
        """The pool for ``host:port``."""
        pool = self._pools.get((host, port))
        if pool is None:
            pool = self._pools[(host, port)] = OriginPool(
                host, port, connect_timeout=self.connect_timeout, max_idle=self.max_idle
            )
        return pool

    def use(self, pool: OriginPool) -> None:
        """Send what goes to ``pool``'s address through ``pool`` (an
        :class:`~bulut.httpd.inprocess.InProcessPool` for a server of this process)."""
        self._pools[(pool.host, pool.port)] = pool

    def close(self) -> None:
        """Drop every idle connection of every pool."""
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
