"""How an instance's response reaches the client through the gateway: a head the instance
writes apart from its body (as uvicorn does) goes out with the body's first bytes, in one
write; on its own when the body is slow; never when the instance fails first."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bulut.serving.autoscaler import DeciderSpec
from bulut.serving.front import Front
from bulut.serving.gateway import HEAD_HOLD_SECONDS
from bulut.serving.instances import Instance, State
from bulut.serving.revisions import RevisionRuntime, RevisionSpec
from bulut.serving.router import Router
from bulut.serving.traffic import Split
from bulut.serving.zygote import Child, Workload

from ..httpd.origins import Origin, read_request

HOST = b"hello.default.localhost"
HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\n"
GET = b"GET / HTTP/1.1\r\nhost: " + HOST + b"\r\n\r\n"

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Reads = Callable[[Answer, float, asyncio.Event], Awaitable[list[bytes]]]


async def front_for(port: int, head_hold: float) -> tuple[Front, RevisionRuntime]:
    """A gateway routing HOST to one ready instance on ``port`` (an :class:`Origin`),
    holding a head that comes alone ``head_hold`` seconds at most."""
    loop = asyncio.get_running_loop()
    workload = Workload(python=Path("python"), project=Path("."), flavour="http")
    spec = RevisionSpec("default", "hello-00001", workload, Path("."), service="hello")
    runtime = RevisionRuntime(spec, DeciderSpec(min_scale=1, initial_scale=1), tick_interval=3600)
    instance = Instance(
        Child(0, port, loop.create_future()), container_concurrency=0, cold_start="pool"
    )
    instance.state = State.READY
    runtime.ready.append(instance)
    router = Router({("default", "hello-00001"): runtime})
    router.table = {HOST.decode(): Split.of("default", "hello", [("hello-00001", 100)])}
    front = Front(router)
    front.gateway.head_hold = head_hold
    await front.start()
    return front, runtime


def whole(received: bytes) -> bool:
    """The 200 with its body, or the gateway's own text answer."""
    return received.endswith(b"ok") or (received[:12] != HEAD[:12] and received.endswith(b"\n"))


@pytest.fixture
async def reads() -> AsyncIterator[Reads]:
    """Send GET through a gateway (holding heads ``head_hold`` seconds) to an origin
    answering with ``answer``; the client's reads, one item per read, until the response
    is whole or the connection closes. ``first_read`` is set at the client's first read."""
    fronts: list[Front] = []

    async def run(answer: Answer, head_hold: float, first_read: asyncio.Event) -> list[bytes]:
        async def script(
            _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await read_request(reader)
            await answer(reader, writer)

        async with Origin(script) as origin:
            front, _ = await front_for(origin.port, head_hold)
            fronts.append(front)
            reader, writer = await asyncio.open_connection("127.0.0.1", front.port)
            writer.write(GET)
            received: list[bytes] = []
            while not whole(b"".join(received)):
                chunk = await asyncio.wait_for(reader.read(65536), 5.0)
                if not chunk:
                    break
                received.append(chunk)
                first_read.set()
            writer.close()
            return received

    yield run
    for front in fronts:
        await front.stop(grace=1.0)


async def test_a_head_written_apart_from_its_body_reaches_the_client_with_it(
    reads: Reads,
) -> None:
    async def head_then_body(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(HEAD)
        await writer.drain()
        await asyncio.sleep(0.02)  # the gateway has read the head alone by now
        writer.write(b"ok")
        await writer.drain()

    received = await reads(head_then_body, 10.0, asyncio.Event())

    assert received == [HEAD + b"ok"]


async def test_a_head_whose_body_is_slow_goes_out_on_its_own(reads: Reads) -> None:
    first_read = asyncio.Event()

    async def body_after_the_head_arrived(
        _: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(HEAD)
        await writer.drain()
        await first_read.wait()  # the client has the head before the body is written
        writer.write(b"ok")
        await writer.drain()

    received = await reads(body_after_the_head_arrived, HEAD_HOLD_SECONDS, first_read)

    assert received == [HEAD, b"ok"]


async def test_an_instance_that_dies_after_its_head_gets_the_client_a_502_not_the_head(
    reads: Reads,
) -> None:
    async def head_then_gone(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(HEAD)
        await writer.drain()
        writer.close()

    received = b"".join(await reads(head_then_gone, 10.0, asyncio.Event()))

    assert received.startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
    assert HEAD not in received
