"""One request answered by an ASGI app, its response streamed as the app sends it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .connection import ClientConnection
from .messages import Request, status_line, text_response

logger = logging.getLogger(__name__)


class AsgiCall:
    """One request answered by an ASGI app (the fallback), its response streamed."""

    def __init__(
        self,
        connection: ClientConnection,
        request: Request,
        app: Callable[..., Awaitable[None]],
        scope: dict[str, Any],
    ) -> None:
        self.connection = connection
        self.request = request
        self.app = app
        self.scope = scope
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.started = False
        self.chunked = False
        self.complete = False
        self.body_sent = False
        self.gone = asyncio.get_running_loop().create_future()

    async def run(self) -> None:
        """Call the app; answer 500 if it fails before responding."""
        try:
            await self.app(self.scope, self.receive, self.send)
        except Exception:
            logger.exception("the data plane's fallback app failed on %s", self.scope["path"])
            if not self.started:
                self.connection.write(text_response(500, "internal server error"))
                self.complete = True
            else:
                self.connection.abort()
                return
        if not self.complete:
            if not self.started:
                self.connection.write(text_response(500, "the app sent no response"))
            elif not self.gone.done():
                self.connection.abort()
                return
        if not self.gone.done():
            self.connection.finish(self.request.keep_alive and not self._closes())

    def _closes(self) -> bool:
        return any(n.lower() == b"connection" and v.lower() == b"close" for n, v in self.headers)

    async def receive(self) -> dict[str, Any]:
        """The whole body at once, then (when asked again) a disconnect."""
        if not self.body_sent:
            self.body_sent = True
            return {"type": "http.request", "body": self.request.body, "more_body": False}
        await self.gone
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        """Write the response as the app sends it."""
        kind = message["type"]
        if kind == "http.response.start":
            self.status = int(message["status"])
            self.headers = list(message.get("headers", []))
            return
        if kind != "http.response.body" or self.complete:
            return
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        write = self.connection.write
        if not self.started:
            self.started = True
            has_length = any(n.lower() == b"content-length" for n, _ in self.headers)
            parts = [status_line(self.status)]
            for name, value in self.headers:
                parts += [name, b": ", value, b"\r\n"]
            if not has_length:
                if more:
                    self.chunked = True
                    parts.append(b"transfer-encoding: chunked\r\n")
                else:
                    parts += [b"content-length: ", str(len(body)).encode(), b"\r\n"]
            parts.append(b"\r\n")
            write(b"".join(parts))
        if self.request.method != b"HEAD" and body:
            write(b"%x\r\n%s\r\n" % (len(body), body) if self.chunked else body)
        if not more:
            if self.chunked:
                write(b"0\r\n\r\n")
            self.complete = True

    def pause(self) -> None:
        """Nothing to pause: the app writes into the transport's buffer."""

    def resume(self) -> None:
        """See :meth:`pause`."""

    def client_gone(self) -> None:
        """Wake a ``receive()`` waiting for the disconnect."""
        if not self.gone.done():
            self.gone.set_result(None)
