"""Readiness: a process that said its own probe passed is ready without a probe from the
runtime (ADR 0023); otherwise the runtime probes, as queue-proxy does. How the revision acts
on the process's word is in test_revisions.py (ADR 0027)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest

from bulut.serving.instances import Instance
from bulut.serving.zygote import Child


@pytest.fixture
async def listener() -> AsyncIterator[socket.socket]:
    """A listening loopback socket nobody serves: connects succeed from the backlog."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    yield sock
    sock.close()


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


async def test_a_process_that_said_its_probe_passed_is_ready_at_once(
    listener: socket.socket,
) -> None:
    instance = Instance(
        child_on(port_of(listener), says=True), container_concurrency=0, cold_start="pool"
    )

    assert instance.said_ready
    assert await instance.wait_ready("/health/readiness", time.monotonic() + 0.05) is True
    instance.upstream.close()


async def test_a_process_that_has_not_said_so_is_probed_from_here(
    origin: tuple[int, list[bytes]],
) -> None:
    instance = Instance(child_on(origin[0], says=False), container_concurrency=0, cold_start="pool")

    assert await instance.wait_ready("/health/readiness", time.monotonic() + 5) is True
    assert len(origin[1]) == 2  # 503, then 200
    assert origin[1][0].startswith(b"GET /health/readiness HTTP/1.1\r\n")
    assert b"k-kubelet-probe: queue" in origin[1][0]
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


async def test_a_process_that_exits_while_probed_is_not_ready(listener: socket.socket) -> None:
    child = child_on(port_of(listener), says=None)
    instance = Instance(child, container_concurrency=0, cold_start="fork")
    waiting = asyncio.ensure_future(instance.wait_ready("/health/readiness", time.monotonic() + 5))
    await asyncio.sleep(0)  # its first probe waits for an answer nobody sends

    child.exited.set_result(3)

    assert await asyncio.wait_for(waiting, 1) is False
    instance.upstream.close()


async def test_a_process_that_refuses_connections_is_not_ready_at_the_deadline() -> None:
    closed = socket.socket()  # bound, not listening: connections are refused
    closed.bind(("127.0.0.1", 0))
    instance = Instance(
        child_on(port_of(closed), says=None), container_concurrency=0, cold_start="fork"
    )

    assert await instance.wait_ready("/health/readiness", time.monotonic() + 0.05) is False
    instance.upstream.close()
    closed.close()
