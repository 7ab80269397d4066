"""What the autoscaler scales on: in-flight requests per 1-second bucket (§1.4).

The router calls :meth:`ConcurrencyTracker.started` and :meth:`~ConcurrencyTracker.finished`
for every request that enters a revision (buffered in the activator or running), so the
tracker knows the exact in-flight count. Each second's bucket holds the *time-averaged*
in-flight count over that second (what queue-proxy reports), or the number of requests
that started in it for the ``rps`` metric. The current, unfinished second is projected to
its end at the present level, so a request that just arrived always counts (Knative gets
the same effect from the activator's immediate stat on a first request).

Instances report every second while they exist, zeros included; the scaler tells the
tracker how many are ready with :meth:`~ConcurrencyTracker.observe_instances`, so an idle
but running revision has data (average 0) while one at zero has none.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from bulut.manifests.autoscaling.config import WINDOW_MAX
from bulut.serving.autoscaler.bucketing import window_average
from bulut.serving.autoscaler.decider import WindowAverages

RETENTION_SECONDS = int(WINDOW_MAX) + 2


class ConcurrencyTracker:
    """Per-revision request accounting in 1-second buckets, read as window averages."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._in_flight = 0
        self._outside = 0  # of them, those another proxy carries (observe_outside)
        self._reporting = False
        self._since = clock()
        self._area: dict[int, float] = {}
        self._requests: dict[int, int] = {}
        self._pruned_at = math.floor(self._since)

    @property
    def in_flight(self) -> int:
        """Requests in the revision right now (queued or running)."""
        return self._in_flight

    def started(self) -> None:
        """A request entered the revision (queued or running)."""
        now = self._advance()
        second = math.floor(now)
        self._in_flight += 1
        self._area.setdefault(second, 0.0)
        self._requests[second] = self._requests.get(second, 0) + 1

    def finished(self) -> None:
        """A request left the revision (answered, failed or timed out)."""
        self._advance()
        self._in_flight = max(0, self._in_flight - 1)

    def observe_outside(self, in_flight: int, started: int) -> None:
        """Another proxy (HAProxy on the warm path) has ``in_flight`` requests in the revision
        now and started ``started`` since its last report: the level moves to that."""
        now = self._advance()
        self._in_flight = max(0, self._in_flight + in_flight - self._outside)
        self._outside = in_flight
        if started:
            second = math.floor(now)
            self._area.setdefault(second, 0.0)
            self._requests[second] = self._requests.get(second, 0) + started

    def observe_instances(self, ready: int) -> None:
        """``ready`` instances exist from now on; each reports a bucket every second."""
        now = self._advance()
        self._reporting = ready > 0
        if self._reporting:
            self._area.setdefault(math.floor(now), 0.0)

    def averages(
        self,
        stable_window: float,
        panic_window: float,
        *,
        metric: str = "concurrency",
        algorithm: str = "linear",
    ) -> WindowAverages | None:
        """Stable and panic window averages now, or ``None`` with no data in the stable window."""
        now = self._advance()
        values = self._bucket_values(now, metric)
        stable = window_average(values, now, stable_window, algorithm)
        if stable is None:
            return None
        panic = window_average(values, now, panic_window, algorithm)
        return WindowAverages(stable=stable, panic=0.0 if panic is None else panic)

    def _bucket_values(self, now: float, metric: str) -> dict[int, float]:
        """Each written second's value; the current second projected to its end."""
        current = math.floor(now)
        if metric == "rps":
            return {second: float(self._requests.get(second, 0)) for second in self._area}
        values = dict(self._area)
        if current in values:
            values[current] += self._in_flight * (current + 1 - now)
        return values

    def _advance(self) -> float:
        """Account the in-flight level since the last event into the buckets; prune old ones."""
        now = self._clock()
        since = self._since
        if since <= now and math.floor(since) == math.floor(now):
            # The warm path: several requests a second land here, one bucket to update.
            if self._in_flight > 0 or self._reporting:
                second = math.floor(now)
                self._area[second] = self._area.get(second, 0.0) + self._in_flight * (now - since)
            self._since = now
            return now
        start = max(self._since, now - RETENTION_SECONDS)
        if now > start and (self._in_flight > 0 or self._reporting):
            second = math.floor(start)
            while second < now:
                overlap = min(second + 1, now) - max(second, start)
                self._area[second] = self._area.get(second, 0.0) + self._in_flight * overlap
                second += 1
        if self._in_flight > 0 or self._reporting:
            self._area.setdefault(math.floor(now), 0.0)
        self._since = max(self._since, now)
        self._prune(math.floor(now))
        return now

    def _prune(self, current: int) -> None:
        """Forget buckets older than the longest window Knative allows (at most once a minute)."""
        if current - self._pruned_at < 60:
            return
        self._pruned_at = current
        oldest = current - RETENTION_SECONDS
        self._area = {s: v for s, v in self._area.items() if s >= oldest}
        self._requests = {s: n for s, n in self._requests.items() if s >= oldest}
