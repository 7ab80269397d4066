"""Readiness: a process that says its own probe passed is ready without a probe from the
runtime (ADR 0023); otherwise the runtime probes, as queue-proxy does."""

from __future__ import annotations

import asyncio
import contextlib
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
    sock.setblocking(False)
    yield sock
    sock.close()


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


def child_on(port: int, *, says: bool | None) -> Child:
    """A child on ``port`` that can say it listens (``says`` not None), already has (True)."""
    loop = asyncio.get_running_loop()
    word: asyncio.Future[bool] | None = None
    if says is not None:
        word = loop.create_future()
        if says:
            word.set_result(True)
    return Child(0, port, loop.create_future(), listening=word)


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


async def test_a_process_that_says_its_probe_passed_is_ready_without_a_probe_from_here(
    listener: socket.socket,
) -> None:
    child = child_on(port_of(listener), says=False)
    instance = Instance(child, container_concurrency=0, cold_start="pool")
    waiting = asyncio.ensure_future(instance.wait_ready("/health/readiness", time.monotonic() + 5))
    connections: list[socket.socket] = []

    def accepted() -> list[socket.socket]:
        with contextlib.suppress(BlockingIOError):
            connections.append(listener.accept()[0])
        return connections

    await eventually(accepted, "the first request's connection, opened ahead")
    assert not waiting.done()
    assert child.listening is not None
    child.listening.set_result(True)

    assert await asyncio.wait_for(waiting, 1) is True
    assert await eventually(lambda: instance.upstream.idle(), "the connection in the pool")
    connections[0].setblocking(False)
    with pytest.raises(BlockingIOError):  # nothing was sent on it: no probe
        connections[0].recv(1)
    connections[0].close()
    instance.upstream.close()


async def test_a_process_whose_own_probe_failed_is_probed_from_here(
    origin: tuple[int, list[bytes]],
) -> None:
    child = child_on(origin[0], says=False)
    instance = Instance(child, container_concurrency=0, cold_start="pool")
    waiting = asyncio.ensure_future(instance.wait_ready("/health/readiness", time.monotonic() + 5))
    probes = origin[1]
    await asyncio.sleep(0.05)
    assert probes == []  # its word first

    assert child.listening is not None
    child.listening.set_result(False)  # it listens; its readiness answered 5xx

    assert await asyncio.wait_for(waiting, 5) is True
    assert len(probes) == 2  # 503, then 200
    assert probes[0].startswith(b"GET /health/readiness HTTP/1.1\r\n")
    assert b"k-kubelet-probe: queue" in probes[0]
    instance.upstream.close()


async def test_an_unreachable_instance_is_probed_again_whatever_it_said(
    origin: tuple[int, list[bytes]],
) -> None:
    instance = Instance(child_on(origin[0], says=True), container_concurrency=0, cold_start="pool")

    ready = await instance.wait_ready("/health/readiness", time.monotonic() + 5, again=True)

    assert ready is True
    assert len(origin[1]) == 2  # it said ready; the probes from here went on until one passed
    instance.upstream.close()


async def test_a_tcp_probe_without_a_notifier_polls_as_before(listener: socket.socket) -> None:
    instance = Instance(
        child_on(port_of(listener), says=None), container_concurrency=0, cold_start="fork"
    )

    assert await instance.wait_ready("", time.monotonic() + 5) is True


async def test_a_process_that_exits_before_its_word_is_not_ready(listener: socket.socket) -> None:
    child = child_on(port_of(listener), says=False)
    instance = Instance(child, container_concurrency=0, cold_start="pool")
    waiting = asyncio.ensure_future(instance.wait_ready("", time.monotonic() + 5))
    await asyncio.sleep(0)  # it runs up to its wait for the word

    child.exited.set_result(3)

    assert await asyncio.wait_for(waiting, 1) is False
    instance.upstream.close()


async def test_a_process_that_never_says_is_not_ready_at_the_deadline(
    listener: socket.socket,
) -> None:
    instance = Instance(
        child_on(port_of(listener), says=False), container_concurrency=0, cold_start="pool"
    )

    assert await instance.wait_ready("", time.monotonic() + 0.05) is False
    instance.upstream.close()
