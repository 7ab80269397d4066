"""Readiness: an HTTP probe goes at once, a TCP probe waits for the process's word."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest

from bulut.serving import instances
from bulut.serving.instances import Instance
from bulut.serving.zygote import Child
from tests.support.waiting import eventually


@pytest.fixture
async def listener() -> AsyncIterator[socket.socket]:
    """A listening loopback socket nobody serves: connects succeed from the backlog."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock
    sock.close()


def child_on(sock: socket.socket, *, listening: bool | None) -> Child:
    loop = asyncio.get_running_loop()
    said: asyncio.Future[None] | None = None
    if listening is not None:
        said = loop.create_future()
        if listening:
            said.set_result(None)
    return Child(0, int(sock.getsockname()[1]), loop.create_future(), listening=said)


async def test_a_tcp_probe_waits_for_the_process_to_say_it_listens(
    listener: socket.socket,
) -> None:
    child = child_on(listener, listening=False)
    instance = Instance(child, container_concurrency=0, cold_start="pool")
    waiting = asyncio.ensure_future(instance.wait_ready("", time.monotonic() + 5))

    await asyncio.sleep(0)  # it runs up to its first wait
    assert not waiting.done()
    listener.setblocking(False)
    with pytest.raises(BlockingIOError):  # no connect was tried: a backlog one would succeed
        listener.accept()
    assert child.listening is not None
    child.listening.set_result(None)

    assert await asyncio.wait_for(waiting, 1) is True


async def test_a_tcp_probe_without_a_notifier_polls_as_before(listener: socket.socket) -> None:
    instance = Instance(
        child_on(listener, listening=None), container_concurrency=0, cold_start="fork"
    )

    assert await instance.wait_ready("", time.monotonic() + 5) is True


async def test_a_failed_http_probe_is_retried_on_the_word_not_the_tick(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(instances, "PROBE_INTERVAL", 30.0)  # a tick would be far too late
    probes: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        probes.append(await reader.readuntil(b"\r\n\r\n"))
        status = b"503 Service Unavailable" if len(probes) == 1 else b"200 OK"
        writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: 2\r\n\r\nOK")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    loop = asyncio.get_running_loop()
    child = Child(0, port, loop.create_future(), listening=loop.create_future())
    instance = Instance(child, container_concurrency=0, cold_start="pool")
    waiting = asyncio.ensure_future(instance.wait_ready("/health/readiness", time.monotonic() + 60))
    try:
        await eventually(lambda: probes, "the first probe (answered 503)")
        assert child.listening is not None
        child.listening.set_result(None)
        assert await asyncio.wait_for(waiting, 15) is True  # not after the 30 s tick
        assert len(probes) == 2
    finally:
        server.close()
        instance.upstream.close()


async def test_a_process_that_exits_is_not_ready(listener: socket.socket) -> None:
    child = child_on(listener, listening=False)
    instance = Instance(child, container_concurrency=0, cold_start="pool")
    waiting = asyncio.ensure_future(instance.wait_ready("", time.monotonic() + 5))
    await asyncio.sleep(0)  # it runs up to its wait for the word

    child.exited.set_result(3)

    assert await asyncio.wait_for(waiting, 1) is False
