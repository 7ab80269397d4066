"""A function's prime hook, with real processes: run in the zygote, inherited by every
instance (which still runs its own ``start(cfg)``), run again in each parked child before it
can be taken, and refused when it keeps a file or a thread that instances would share."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bulut.errors import InstanceError
from bulut.serving.zygote import FORK, POOL, Child, Workload, Zygote
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def workload(build_function: Callable[[str], Any]) -> Workload:
    project, environment = build_function("primed")
    return Workload.of(project, environment, readiness_path="/health/readiness")


async def answer(child: Child) -> dict[str, Any]:
    assert child.listening is not None
    await asyncio.wait_for(child.listening, 30)
    reader, writer = await asyncio.open_connection("127.0.0.1", child.port)
    writer.write(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
    response = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    found: dict[str, Any] = json.loads(body)
    return found


async def pooled_then_forked(workload: Workload, tmp_path: Path) -> tuple[int, list[Any]]:
    """The zygote's pid, and the answers of its parked child and of a child forked on demand."""
    zygote = Zygote(workload, {}, tmp_path, pool_size=1)
    await zygote.start(timeout=60)
    children: list[Child] = []
    try:
        await eventually(lambda: len(zygote.parked) == 1, "a parked child")
        children = [await zygote.fork(), await zygote.fork()]  # one pooled, one forked
        assert [child.source for child in children] == [POOL, FORK]
        answers = [await answer(child) for child in children]
    finally:
        for child in children:
            os.kill(child.pid, signal.SIGTERM)
        await zygote.close()
    assert zygote.pid is not None
    assert [a["started"] for a in answers] == [child.pid for child in children]
    return zygote.pid, [
        (child.pid, found["primed"]) for child, found in zip(children, answers, strict=True)
    ]


async def test_prime_runs_in_the_zygote_again_in_its_parked_child_and_each_instance_starts_itself(
    workload: Workload, tmp_path: Path
) -> None:
    zygote, ((pooled, pooled_primed), (_, forked_primed)) = await pooled_then_forked(
        workload, tmp_path
    )

    assert pooled_primed == [zygote, pooled]  # rehearsed before it could be taken
    assert forked_primed == [zygote]  # forked on demand: nothing more on its cold path


async def test_prime_in_the_zygote_only_is_inherited_as_it_is(
    workload: Workload, tmp_path: Path
) -> None:
    """What the annotation ``bulut.dev/prime: "zygote"`` asks for."""
    zygote, answers = await pooled_then_forked(replace(workload, reprime=False), tmp_path)

    assert [primed for _, primed in answers] == [[zygote], [zygote]]


async def test_a_workload_without_prime_never_calls_it(workload: Workload, tmp_path: Path) -> None:
    """What the annotation ``bulut.dev/prime: "false"`` asks for."""
    zygote = Zygote(replace(workload, prime=False), {}, tmp_path)
    await zygote.start(timeout=60)
    try:
        child = await zygote.fork()
        found = await answer(child)
        os.kill(child.pid, signal.SIGTERM)
    finally:
        await zygote.close()
    assert found["primed"] == []


@pytest.mark.parametrize(
    ("leaves", "message"),
    [
        ("file", r"prime\(\) left 1 open file descriptor\(s\): fd \d+ -> .*func\.py"),
        ("thread", r"prime\(\) left a thread running"),
    ],
)
async def test_a_prime_that_keeps_a_file_or_a_thread_fails_the_zygote_naming_it(
    workload: Workload, tmp_path: Path, leaves: str, message: str
) -> None:
    zygote = Zygote(workload, {"PRIME_LEAVES": leaves}, tmp_path)
    with pytest.raises(InstanceError, match=message):
        await zygote.start(timeout=60)


async def test_children_parked_after_the_zygote_learned_still_start_and_connect_on_their_own(
    workload: Workload, tmp_path: Path
) -> None:
    """Parked children copy the pages earlier instances wrote (ADR 0019); each instance
    taken from them still runs its own start(cfg) and holds its own connection."""
    accepted: list[int] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer.get_extra_info("peername")[1])

    listener = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    zygote = Zygote(workload, {"PRIMED_CONNECT": str(port)}, tmp_path, pool_size=1)
    await zygote.start(timeout=60)
    answers: list[tuple[int, dict[str, Any]]] = []
    try:
        for _ in range(4):  # more than the instances a zygote learns from
            await eventually(lambda: len(zygote.parked) == 1, "a parked child")
            child = await zygote.fork()
            assert child.source == POOL
            answers.append((child.pid, await answer(child)))
            os.kill(child.pid, signal.SIGTERM)
            await asyncio.wait_for(child.exited, 30)
    finally:
        await zygote.close()
        listener.close()

    assert [found["started"] for _, found in answers] == [pid for pid, _ in answers]
    connected = [found["connectedFrom"] for _, found in answers]
    assert len(set(connected)) == 4 and sorted(connected) == sorted(accepted)
