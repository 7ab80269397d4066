"""The server: a :class:`ClientConnection` per client on one bound socket, this loop.

Subclasses decide what answers a request by overriding :meth:`Server.dispatch`; the
default hands every request to ``app``: a native :class:`~bulut.httpd.Handler` (answers
through the connection, no task) or any ASGI app (one task per request).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Coroutine
from typing import Any

from .asgi import AsgiCall
from .connection import ClientConnection
from .messages import Request

KEEP_ALIVE_SECONDS = 75.0
MAX_BODY_BYTES = 64 * 1024 * 1024


def listen(host: str, port: int) -> socket.socket:
    """A bound TCP socket on ``host:port`` (port 0: the kernel picks one)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


class Server:
    """Serves ``app`` (native handler or ASGI) until :meth:`stop`."""

    def __init__(self, app: Any = None, *, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes  # larger request bodies get 413 as they arrive
        self.connections: set[ClientConnection] = set()
        self.server: asyncio.AbstractServer | None = None
        self.server_address: tuple[str, int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop the server runs on."""
        assert self._loop is not None, "the server is not started"
        return self._loop

    async def start(self, sock: socket.socket) -> None:
        """Serve on a bound socket (it is made to listen)."""
        self._loop = asyncio.get_running_loop()
        name = sock.getsockname()
        self.server_address = (str(name[0]), int(name[1]))
        self.server = await self._loop.create_server(
            lambda: ClientConnection(self), sock=sock, backlog=2048
        )
        self.spawn(self._sweep_idle())

    async def stop(self, grace: float = 30.0) -> None:
        """Stop accepting, let answers in progress finish (up to ``grace``), close the rest."""
        if self.server is not None:
            self.server.close()
        deadline = time.monotonic() + grace
        while True:
            for connection in list(self.connections):
                if not connection.busy:
                    connection.close()
            if not self.connections or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.02)
        for connection in list(self.connections):
            connection.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 1.0)

    async def _sweep_idle(self) -> None:
        """Close keep-alive connections idle for longer than ``KEEP_ALIVE_SECONDS``."""
        while True:
            await asyncio.sleep(KEEP_ALIVE_SECONDS / 5)
            limit = time.monotonic() - KEEP_ALIVE_SECONDS
            for connection in list(self.connections):
                if not connection.busy and connection.idle_since < limit:
                    connection.close()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` as a task that :meth:`stop` cancels."""
        task = self.loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def dispatch(self, connection: ClientConnection, request: Request) -> None:
        """Answer one request (called in order, one at a time per connection)."""
        self.answer(connection, request, self.app, None)

    def answer(
        self,
        connection: ClientConnection,
        request: Request,
        app: Any,
        scope: dict[str, Any] | None,
    ) -> None:
        """Hand ``request`` to ``app``: 404 when there is none, native or ASGI otherwise."""
        if app is None:
            connection.respond_text(404, "not found")
            return
        handle = getattr(app, "handle_request", None)
        if handle is not None:
            handle(request, connection)
            return
        call = AsgiCall(connection, request, app, scope or request.scope(self.server_address))
        connection.current = call
        self.spawn(call.run())
