"""Serve the data plane's ASGI app with uvicorn (httptools) inside the running loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import uvicorn


class Front:
    """A uvicorn server for one ASGI app on a loopback socket, as a task of this loop."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.host = host
        self.port = int(self.sock.getsockname()[1])
        config = uvicorn.Config(
            app,
            http="httptools",
            lifespan="off",
            log_level="warning",
            access_log=False,
            server_header=False,
            date_header=False,
            proxy_headers=False,
            timeout_keep_alive=75,
            timeout_graceful_shutdown=30,
        )
        self.server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen and serve; returns once the socket accepts connections."""
        # The host program owns signals (Ctrl-C stops `bulut up`, not just the front).
        self.server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        self._task = asyncio.get_running_loop().create_task(self.server.serve([self.sock]))
        while not self.server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop serving and wait for open requests to finish."""
        self.server.should_exit = True
        if self._task is not None:
            await self._task
