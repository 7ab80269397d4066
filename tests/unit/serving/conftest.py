"""Fixtures shared by the serving unit tests."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import AsyncIterator, Iterator
from types import ModuleType

import pytest

from bulut.serving import instances
from bulut.serving.zygote import HOST_PROGRAM


@pytest.fixture(scope="module")
def host() -> Iterator[ModuleType]:
    """zygote_host.py as a module (the zygote runs it by path, under the function's Python)."""
    spec = importlib.util.spec_from_file_location("zygote_host_under_test", HOST_PROGRAM)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    path = list(sys.path)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path  # run by path it drops its own folder from sys.path
    yield module
    del sys.modules[spec.name]


@pytest.fixture
async def origin(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[int, list[bytes]]]:
    """A server answering readiness probes: 503 to the first, 200 to the others (probed
    every 10 ms)."""
    monkeypatch.setattr(instances, "PROBE_INTERVAL", 0.01)
    probes: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while head := await reader.readuntil(b"\r\n\r\n"):
            probes.append(head)
            status = b"503 Service Unavailable" if len(probes) == 1 else b"200 OK"
            writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: 2\r\n\r\nOK")
            await writer.drain()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1]), probes
    server.close()
