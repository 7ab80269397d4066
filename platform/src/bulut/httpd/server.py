"""The server: a :class:`ClientConnection` per client on one bound socket, this loop.

Subclasses decide what answers a request by overriding :meth:`Server.dispatch`; the
default hands every request to ``app``: a native :class:`~bulut.httpd.Handler` (answers
through the connection, no task) or any ASGI app (one task per request).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import socket
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any, cast

from .asgi import AsgiCall
from .connection import ClientConnection
from .messages import Request

KEEP_ALIVE_SECONDS = 75.0
MAX_BODY_BYTES = 64 * 1024 * 1024
# Limits as Knative's ingresses (Envoy: Kourier, Istio) and common proxies set them:
MAX_URL_BYTES = 8 * 1024  # request target; 414 above (nginx's 8 KiB header buffer)
MAX_HEADER_BYTES = 60 * 1024  # request line + headers; 431 above (Envoy's 60 KiB)
MAX_HEADERS = 100  # header fields; 431 above (Envoy's max_headers_count)
UNLIMITED = sys.maxsize  # every limit, with limits off (Settings.request_limits)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, where there is one (looked up on first use)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    return None if trim is None else cast("Callable[[int], int]", trim)


def listen(host: str, port: int) -> socket.socket:
    """A bound TCP socket on ``host:port`` (port 0: the kernel picks one)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


class Server:
    """Serves ``app`` (native handler or ASGI) until :meth:`stop`."""

    def __init__(
        self,
        app: Any = None,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_url_bytes: int = MAX_URL_BYTES,
        max_header_bytes: int = MAX_HEADER_BYTES,
        max_headers: int = MAX_HEADERS,
        limits: bool = True,
    ) -> None:
        """``limits=False`` lifts every limit (a measurement's baseline, never for serving)."""
        self.app = app
        self.max_body_bytes = max_body_bytes  # larger request bodies get 413 as they arrive
        self.max_url_bytes = max_url_bytes
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers
        if not limits:
            self.max_body_bytes = self.max_url_bytes = UNLIMITED
            self.max_header_bytes = self.max_headers = UNLIMITED
        self._trim: asyncio.TimerHandle | None = None
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

    def body_limit(self, host: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> int:
        """The largest body a request (``Host``, target, lower-case headers) may carry.

        Called once its headers are complete: a Content-Length above it is answered 413
        before any of the body is read (and before ``100 Continue``); a chunked body is
        cut off with 413 once it passes it. Subclasses narrow it per route.
        """
        return self.max_body_bytes

    def big_body_done(self) -> None:
        """A large request body was read: return freed memory to the OS within a second.

        CPython frees a burst of buffered bodies into the C allocator, which keeps them
        (glibc's ``malloc_trim`` hands them back); once a second at most, never on the
        warm path of small requests.
        """
        if self._trim is None and _malloc_trim() is not None:
            self._trim = self.loop.call_later(1.0, self._trim_now)

    def _trim_now(self) -> None:
        self._trim = None
        trim = _malloc_trim()
        if trim is not None:
            trim(0)

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
