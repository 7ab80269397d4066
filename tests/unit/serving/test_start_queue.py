"""Zygote starts are queued: one per CPU at a time, revisions with waiting requests first."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

from bulut.serving.launcher import StartQueue
from tests.support.waiting import eventually


class Revision:
    """Stands in for a launcher: a name and whether a request waits for it."""

    def __init__(self, name: str, urgent: bool = False) -> None:
        self.name = name
        self.urgent = urgent


class Template:
    """Stands in for a zygote: the pid of its process, when there is one."""

    def __init__(self, pid: int | None = None) -> None:
        self.process_pid = pid


def state_of(pid: int) -> str:
    """The process state letter from /proc (T: stopped)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


async def in_state(pid: int, wanted: set[str], what: str) -> str:
    """The process state once it is one of ``wanted``.

    A signal is delivered when the process next runs: on a loaded machine a sleeping
    process shows its new state a few milliseconds after ``kill``.
    """
    return await eventually(lambda: state_of(pid) if state_of(pid) in wanted else "", what)


async def test_an_urgent_start_pauses_the_idle_imports_until_it_is_primed() -> None:
    queue = StartQueue(2)
    idle = subprocess.Popen(["sleep", "30"])
    try:
        warming, demanded = Revision("warming"), Revision("demanded", urgent=True)
        primed = asyncio.Event()
        states: list[str] = []

        async def warm() -> None:
            async with queue.turn(warming, Template(idle.pid)):  # type: ignore[arg-type]
                await primed.wait()

        async def demand() -> None:
            async with queue.turn(demanded, Template()):  # type: ignore[arg-type]
                states.append(await in_state(idle.pid, {"T"}, "the idle import paused"))

        warming_task = asyncio.create_task(warm())
        await eventually(lambda: queue.running == 1, "the idle import to hold a slot")
        await demand()
        after = await in_state(idle.pid, {"S", "R"}, "the idle import resumed")
        primed.set()
        await warming_task
    finally:
        idle.kill()
        idle.wait()

    assert states == ["T"]
    assert after in {"S", "R"}
    assert queue.paused == frozenset()


async def test_no_more_starts_run_at_once_than_there_are_slots() -> None:
    queue = StartQueue(2)
    peak = 0
    running = 0

    async def start(name: str) -> None:
        nonlocal peak, running
        async with queue.turn(Revision(name), Template()):  # type: ignore[arg-type]
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1

    await asyncio.gather(*(start(f"r{n}") for n in range(5)))

    assert peak == 2
    assert (queue.running, queue.waiting) == (0, 0)


async def test_a_revision_a_request_waits_for_starts_at_once_past_the_queue() -> None:
    queue = StartQueue(1)
    order: list[str] = []
    first, idle, wanted = Revision("first"), Revision("idle"), Revision("wanted")
    gate = asyncio.Event()

    async def start(revision: Revision) -> None:
        async with queue.turn(revision, Template()):  # type: ignore[arg-type]
            order.append(revision.name)
            if revision is first:
                await gate.wait()

    tasks = [asyncio.create_task(start(r)) for r in (first, idle, wanted)]
    await eventually(lambda: queue.waiting == 2, "two starts to queue behind the first")
    wanted.urgent = True  # a request reached it while it queued
    queue.hurry(wanted)  # type: ignore[arg-type]
    await eventually(lambda: len(order) == 2, "a second start while the first runs")
    started_while_first_ran = list(order)
    gate.set()
    await asyncio.gather(*tasks)

    assert started_while_first_ran == ["first", "wanted"]
    assert order == ["first", "wanted", "idle"]
    assert (queue.running, queue.waiting) == (0, 0)


async def test_an_urgent_start_never_queues_and_idle_ones_wait_for_free_slots() -> None:
    queue = StartQueue(1)
    order: list[str] = []
    gate = asyncio.Event()

    async def start(revision: Revision) -> None:
        async with queue.turn(revision, Template()):  # type: ignore[arg-type]
            order.append(revision.name)
            await gate.wait()

    tasks = [
        asyncio.create_task(start(r))
        for r in (Revision("warming"), Revision("demanded", urgent=True), Revision("later"))
    ]
    await eventually(lambda: queue.waiting == 1, "the third start to queue")
    during = list(order)
    gate.set()
    await asyncio.gather(*tasks)

    assert during == ["warming", "demanded"]
    assert order == ["warming", "demanded", "later"]


async def test_a_start_cancelled_while_it_queues_leaves_no_trace() -> None:
    queue = StartQueue(1)
    holder = asyncio.Event()
    entered: list[Any] = []

    async def hold() -> None:
        async with queue.turn(Revision("holder"), Template()):  # type: ignore[arg-type]
            await holder.wait()

    async def start(name: str) -> None:
        async with queue.turn(Revision(name), Template()):  # type: ignore[arg-type]
            entered.append(name)

    holding = asyncio.create_task(hold())
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(start("cancelled"))
    later = asyncio.create_task(start("later"))
    await asyncio.sleep(0)
    cancelled.cancel()
    holder.set()
    await asyncio.gather(holding, later)

    assert entered == ["later"]
    assert (queue.running, queue.waiting) == (0, 0)
