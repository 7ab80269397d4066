"""What the launcher reports: the zygote's memory and, beside it, its parked children's,
read off the event loop."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path
from typing import Any

from bulut.serving.launcher import Launcher
from bulut.serving.memory import Memory, memory_of
from bulut.serving.zygote import Parked, Workload
from tests.support.waiting import eventually


class FakeZygote:
    def __init__(self, pid: int, parked: list[int]) -> None:
        self.pid = pid
        self.import_ms = 12.5
        self.pool_size = 1
        self.seeded = False
        self.parked = {p: Parked(p, 0, socket.socket(), -1) for p in parked}


def launcher_with(zygote: FakeZygote) -> Launcher:
    launcher = Launcher(Workload(python=Path("python"), project=Path(".")), {}, Path("."))
    launcher._zygote = zygote  # type: ignore[assignment]
    return launcher


async def test_parked_children_are_reported_beside_the_zygote_not_inside_it() -> None:
    me = os.getpid()
    launcher = launcher_with(FakeZygote(me, [me]))

    launcher.refresh()

    facts: dict[str, Any] = launcher.facts or {}
    assert facts["pid"] == me and facts["importMs"] == 12.5 and facts["seeded"] is False
    assert facts["pool"]["size"] == 1 and facts["pool"]["parked"] == [me]
    await eventually(lambda: (launcher.facts or {})["ussBytes"] > 0, "the memory, read")
    facts = launcher.facts or {}
    assert facts["pool"]["ussBytes"] > 0 and facts["ussBytes"] > 0
    for zygote in launcher._zygote.parked.values():  # type: ignore[union-attr]
        zygote.sock.close()


async def test_memory_is_read_off_the_loop_and_reported_once_read() -> None:
    reports: list[int] = []
    launcher = launcher_with(FakeZygote(os.getpid(), []))
    launcher._on_change = lambda: reports.append((launcher.facts or {})["rssBytes"])

    launcher.refresh()  # returns at once: the kernel's walk of the page tables is a thread's
    assert (launcher.facts or {})["rssBytes"] == 0

    await eventually(lambda: reports, "a report with the memory")
    assert reports[0] > 0
    launcher.refresh()  # read lately: not read again
    await asyncio.sleep(0.05)
    assert len(reports) == 1 and launcher._reading is None


async def test_an_empty_pool_reports_no_memory() -> None:
    launcher = launcher_with(FakeZygote(os.getpid(), []))

    launcher.refresh()

    assert (launcher.facts or {})["pool"] == {
        "size": 1,
        "parked": [],
        "rssBytes": 0,
        "pssBytes": 0,
        "ussBytes": 0,
    }


def test_memory_adds_up() -> None:
    one = memory_of(os.getpid())

    both = one + Memory(rss=1, pss=2, uss=3)

    assert (both.rss, both.pss, both.uss) == (one.rss + 1, one.pss + 2, one.uss + 3)


async def test_a_released_zygote_is_reported_gone_before_its_process_is_waited_for() -> None:
    closing = asyncio.Event()
    seen: list[object] = []

    class Stopping(FakeZygote):
        async def close(self) -> None:
            await closing.wait()

    launcher = Launcher(
        Workload(python=Path("python"), project=Path(".")),
        {},
        Path("."),
        on_change=lambda: seen.append(launcher.facts),
    )
    launcher._zygote = Stopping(os.getpid(), [])  # type: ignore[assignment]
    launcher._task = asyncio.ensure_future(asyncio.sleep(0, launcher._zygote))
    launcher.refresh()
    releasing = asyncio.ensure_future(launcher.release())

    await eventually(lambda: seen, "a report")
    assert seen == [None] and not releasing.done()
    closing.set()
    await releasing
