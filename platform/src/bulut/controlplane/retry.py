"""Retry an update that lost a race on ``resourceVersion`` (client-go's RetryOnConflict).

A writer reads an object, changes it and writes it back with the resourceVersion it read.
When something else wrote in between (the reconciler updating status right after a
create), the store answers 409 Conflict. kn and kubectl then read the object again and
re-apply the *change*, not the stale object: ``attempt`` must do both, every time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from bulut.errors import ConflictError

T = TypeVar("T")

STEPS = 5  # client-go's retry.DefaultRetry: 5 steps, 10 ms apart, 10 % jitter
DELAY_SECONDS = 0.01
JITTER = 0.1


def retry_on_conflict(
    attempt: Callable[[], T],
    *,
    steps: int = STEPS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``attempt()``, again (up to ``steps`` times in all) while it raises ConflictError."""
    for step in range(1, steps + 1):
        try:
            return attempt()
        except ConflictError:
            if step == steps:
                raise
            sleep(DELAY_SECONDS * (1 + JITTER * random.random()))
    raise AssertionError("unreachable")  # pragma: no cover -- the loop returns or raises
