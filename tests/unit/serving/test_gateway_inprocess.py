"""The gateway answering requests handed to it in-process (the broker's deliveries under
`bulut up`, ADR 0029): the instance gets the same HTTP request as from a socket's client
and the sender the same response; ``timeoutSeconds``, an instance failing mid-response, a
response ended by closing and a sender giving up behave as over a socket."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bulut.httpd import InProcessConnection, InProcessPool, OriginError, OriginPool
from bulut.serving.autoscaler import DeciderSpec
from bulut.serving.front import Front
from bulut.serving.instances import Instance, State
from bulut.serving.revisions import RevisionRuntime, RevisionSpec
from bulut.serving.router import Router
from bulut.serving.traffic import Split
from bulut.serving.zygote import Child, Workload

from ..httpd.origins import OK, Origin, read_request, reset

HOST = "hello.default.localhost"
Answer = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Gateway = Callable[..., Awaitable[tuple[Front, list[bytes]]]]
"""(answer, timeout_seconds=300.0) -> the gateway and the requests its instance got."""


def answering(response: bytes) -> Answer:
    async def answer(_: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(response)

    return answer


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    """A gateway routing HOST to one ready instance (an :class:`Origin` answering every
    request with ``answer``) with ``timeoutSeconds``, and the requests the instance got."""
    fronts: list[Front] = []
    origins: list[Origin] = []

    async def start(answer: Answer, timeout_seconds: float = 300.0) -> tuple[Front, list[bytes]]:
        received: list[bytes] = []

        async def script(
            _: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            while request := await read_request(reader):
                received.append(request)
                await answer(request, reader, writer)

        origin = await Origin(script).__aenter__()
        origins.append(origin)
        loop = asyncio.get_running_loop()
        workload = Workload(python=Path("python"), project=Path("."), flavour="http")
        spec = RevisionSpec(
            "default",
            "hello-00001",
            workload,
            Path("."),
            service="hello",
            timeout_seconds=timeout_seconds,
        )
        runtime = RevisionRuntime(
            spec, DeciderSpec(min_scale=1, initial_scale=1), tick_interval=3600
        )
        instance = Instance(
            Child(0, origin.port, loop.create_future()), container_concurrency=0, cold_start="pool"
        )
        instance.state = State.READY
        runtime.ready.append(instance)
        router = Router({("default", "hello-00001"): runtime})
        router.table = {HOST: Split.of("default", "hello", [("hello-00001", 100)])}
        front = Front(router)
        await front.start()
        fronts.append(front)
        return front, received

    yield start
    for front in fronts:
        await front.stop(grace=1.0)
    for origin in origins:
        await origin.__aexit__(None, None, None)


def in_process(front: Front) -> InProcessPool:
    return InProcessPool(front.gateway, "127.0.0.1", front.port)


def without_trace(request: bytes) -> bytes:
    """The request without its traceparent (a new span id per request)."""
    return b"\r\n".join(line for line in request.split(b"\r\n") if b"traceparent" not in line)


async def test_the_instance_gets_the_same_request_and_the_sender_the_same_answer(
    gateway: Gateway,
) -> None:
    front, received = await gateway(answering(OK))
    headers = [(b"ce-id", b"1"), (b"ce-type", b"t"), (b"kn-namespace", b"default")]
    socket_pool = OriginPool("127.0.0.1", front.port)

    over_socket = await socket_pool.request("POST", "/", host=HOST, headers=headers, body=b"{}")
    handed = await in_process(front).request("POST", "/", host=HOST, headers=headers, body=b"{}")

    assert (handed.status, handed.headers, handed.body) == (
        over_socket.status,
        over_socket.headers,
        over_socket.body,
    )
    assert [without_trace(r) for r in received] == [without_trace(received[0])] * 2
    assert b"x-forwarded-for: 127.0.0.1\r\n" in received[1]


async def test_a_chunked_answer_after_early_hints_reaches_the_sender_as_over_a_socket(
    gateway: Gateway,
) -> None:
    head = b"HTTP/1.1 200 OK\r\nce-id: r1\r\ntransfer-encoding: chunked\r\n\r\n"
    hints = b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n"
    front, _ = await gateway(answering(hints + head + b"2\r\n{}\r\n0\r\n\r\n"))
    socket_pool = OriginPool("127.0.0.1", front.port)

    over_socket = await socket_pool.request("POST", "/", host=HOST, body=b"{}")
    handed = await in_process(front).request("POST", "/", host=HOST, body=b"{}")

    assert (handed.status, handed.headers, handed.body) == (
        over_socket.status,
        over_socket.headers,
        over_socket.body,
    )
    assert (handed.status, handed.body) == (200, b"{}")


async def test_a_finished_delivery_leaves_nothing_for_the_cycle_collector(
    gateway: Gateway,
) -> None:
    """Its connection is freed as the delivery ends, not by a collection: a platform under
    load collects rarely, and each collection then walks every cycle left since (ADR 0032)."""
    front, _ = await gateway(answering(OK))
    pool = in_process(front)
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            answer = await pool.request("POST", "/", host=HOST, body=b"{}")
            assert answer.status == 200
        left = [o for o in gc.get_objects() if isinstance(o, InProcessConnection)]
    finally:
        gc.enable()
    assert left == []


async def test_a_response_the_instance_ends_by_closing_arrives_whole(gateway: Gateway) -> None:
    async def closes(_: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end")
        writer.close()

    front, _ = await gateway(closes)

    answer = await in_process(front).request("GET", "/", host=HOST)

    assert (answer.status, answer.body) == (200, b"until the end")


async def test_an_instance_failing_mid_response_fails_the_exchange(gateway: Gateway) -> None:
    async def crashes(_: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf")
        await writer.drain()
        await asyncio.sleep(0.01)
        reset(writer)

    front, _ = await gateway(crashes)

    with pytest.raises(OriginError) as failed:
        await in_process(front).request("POST", "/", host=HOST, body=b"x")

    assert failed.value.retryable is False  # response bytes came: never sent again


async def test_timeout_seconds_answers_504_as_over_a_socket(gateway: Gateway) -> None:
    async def silent(_: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    front, _ = await gateway(silent, timeout_seconds=0.3)

    answer = await in_process(front).request("POST", "/", host=HOST, body=b"x")

    assert (answer.status, answer.body) == (504, b"request timeout\n")


async def test_a_sender_giving_up_closes_the_instances_connection(gateway: Gateway) -> None:
    closed = asyncio.Event()

    async def waits(_: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the gateway drops the connection
        closed.set()

    front, received = await gateway(waits)
    sending = asyncio.create_task(in_process(front).request("POST", "/", host=HOST, body=b"x"))
    async with asyncio.timeout(5.0):
        while not received:
            await asyncio.sleep(0.01)
    sending.cancel()

    async with asyncio.timeout(5.0):
        await closed.wait()
    assert sending.cancelled()
