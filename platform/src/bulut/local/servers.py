"""Listening sockets and the embedded uvicorn server of the control-plane port."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from bulut.errors import ConfigError


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals to `bulut up` (which stops every plane in order)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def until_started(self) -> None:
        """Return once the server accepts connections."""
        while not self.started:
            await asyncio.sleep(0.01)


def bind(host: str, port: int) -> socket.socket:
    """Bind a listening socket now, so a busy port fails fast with a clear message."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({error.strerror}): "
            f"stop what uses it or pick another port (--data-port/--control-port)"
        ) from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def embedded_server(
    app: ASGIApp, *, certfile: Path | None = None, keyfile: Path | None = None
) -> EmbeddedServer:
    """uvicorn for an ASGI app (the control plane) on the running loop, signals left alone;
    HTTPS with ``certfile`` and ``keyfile``."""
    config = uvicorn.Config(
        app,
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
        server_header=True,
        date_header=True,
        proxy_headers=False,
        lifespan="off",
        log_level="warning",
        access_log=False,
        http="httptools",
        loop="none",
        timeout_graceful_shutdown=5,
    )
    return EmbeddedServer(config)
