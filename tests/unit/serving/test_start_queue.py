"""Zygote starts are queued: one per CPU at a time, revisions with waiting requests first."""

from __future__ import annotations

import asyncio
from typing import Any

from bulut.serving.launcher import StartQueue


class Revision:
    """Stands in for a launcher: a name and whether a request waits for it."""

    def __init__(self, name: str, urgent: bool = False) -> None:
        self.name = name
        self.urgent = urgent


async def test_no_more_starts_run_at_once_than_there_are_slots() -> None:
    queue = StartQueue(2)
    peak = 0
    running = 0

    async def start(name: str) -> None:
        nonlocal peak, running
        async with queue.turn(Revision(name)):  # type: ignore[arg-type]
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1

    await asyncio.gather(*(start(f"r{n}") for n in range(5)))

    assert peak == 2
    assert (queue.running, queue.waiting) == (0, 0)


async def test_a_revision_with_a_waiting_request_starts_before_older_idle_ones() -> None:
    queue = StartQueue(1)
    order: list[str] = []
    first, idle, wanted = Revision("first"), Revision("idle"), Revision("wanted")
    gate = asyncio.Event()

    async def start(revision: Revision) -> None:
        async with queue.turn(revision):  # type: ignore[arg-type]
            order.append(revision.name)
            if revision is first:
                await gate.wait()

    tasks = [asyncio.create_task(start(r)) for r in (first, idle, wanted)]
    await asyncio.sleep(0.01)
    wanted.urgent = True  # a request reached it while it queued
    gate.set()
    await asyncio.gather(*tasks)

    assert order == ["first", "wanted", "idle"]


async def test_a_start_cancelled_while_it_queues_leaves_no_trace() -> None:
    queue = StartQueue(1)
    holder = asyncio.Event()
    entered: list[Any] = []

    async def hold() -> None:
        async with queue.turn(Revision("holder")):  # type: ignore[arg-type]
            await holder.wait()

    async def start(name: str) -> None:
        async with queue.turn(Revision(name)):  # type: ignore[arg-type]
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
