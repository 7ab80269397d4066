"""Loopback networking for tests: free ports, ASGI apps under uvicorn, "is it listening"."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from tests.support.waiting import eventually


async def request_body(receive: Any) -> bytes:
    """The whole body of an ASGI HTTP request."""
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body"):
            return body


def free_port() -> int:
    """An ephemeral loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(
    app: Any, port: int | None = None, *, graceful_shutdown: int | None = None
) -> AsyncIterator[int]:
    """Serve an ASGI app with uvicorn on loopback in this loop; yields the port once it listens."""
    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="error",
        lifespan="off",
        timeout_graceful_shutdown=graceful_shutdown,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    def started() -> bool:
        if task.done():
            task.result()  # it failed to start: say why
        return bool(server.started)

    await eventually(started, f"uvicorn to listen on port {port}")
    try:
        yield port
    finally:
        server.should_exit = True
        await task


def answers(url: str) -> bool:
    """Whether anything answers HTTP at ``url`` (any status will do)."""
    try:
        httpx.options(url, timeout=1)
    except httpx.TransportError:
        return False
    return True


async def listening(
    url: str, process: subprocess.Popen[bytes] | None = None, log: Path | None = None
) -> None:
    """Wait until ``url`` answers HTTP; fail with the log if ``process`` exits first."""

    async def answering() -> bool:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{process.args!r} exited: {log.read_text() if log else ''}")
        return await asyncio.to_thread(answers, url)

    await eventually(answering, f"{url} to answer", timeout=30.0)
