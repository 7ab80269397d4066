"""Clocks tests inject into time-dependent code, so they assert the waits, not the wall clock."""

from __future__ import annotations

import asyncio


class RecordingSleep:
    """An ``asyncio.sleep`` stand-in that records every wait asked for.

    With ``real`` it also waits that long (the code runs as in production); without, it
    only yields to the loop, so a test of a long backoff takes no time.
    """

    def __init__(self, *, real: bool = False) -> None:
        self.real = real
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(seconds if self.real else 0)


class ManualClock:
    """A wall clock (``time.time`` stand-in) that moves only when the test says so."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        self.now += seconds
