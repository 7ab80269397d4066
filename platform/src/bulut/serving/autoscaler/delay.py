"""The scale-down-delay window: a sliding maximum over time (Knative ``aggregation/max``).

Values are recorded into buckets of ``granularity`` seconds (the 2 s decider tick); the
window holds ``ceil(duration / granularity)`` buckets and answers the largest value among
them. A value leaves the window once its bucket index is that many buckets old.
"""

from __future__ import annotations

import math
from collections import deque


class MaxTimeWindow:
    """Sliding maximum of recent values (descending-minima deque, O(1) amortised)."""

    def __init__(self, duration: float, granularity: float = 2.0) -> None:
        self.duration = duration
        self.granularity = granularity
        self._size = max(1, math.ceil(duration / granularity))
        self._maxima: deque[tuple[int, int]] = deque()

    def record(self, now: float, value: int) -> None:
        """Record ``value`` at time ``now`` (seconds)."""
        index = math.floor(now / self.granularity)
        while self._maxima and self._maxima[-1][1] <= value:
            self._maxima.pop()
        while self._maxima and index - self._maxima[0][0] >= self._size:
            self._maxima.popleft()
        if self._maxima and self._maxima[-1][0] == index:
            value = max(value, self._maxima.pop()[1])
        self._maxima.append((index, value))

    def current(self) -> int:
        """The largest value recorded within the window (0 when empty)."""
        return self._maxima[0][1] if self._maxima else 0
