"""A settable clock for autoscaler tests (time is injected, never slept)."""

from __future__ import annotations

import pytest


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    """A clock starting at t = 1000 s."""
    return FakeClock()
