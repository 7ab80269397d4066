"""Which new traces are recorded (pure): a rate limit on roots, parent-based below them.

OpenTelemetry's default sampler is ``parentbased_always_on``: a span under a parent follows
the parent's ``sampled`` flag, a root is always sampled. Bulut keeps the parent-based half and
limits the roots: :class:`TraceBudget` lets at most ``per_second`` new traces a second be
recorded (a token bucket holding one second's worth, as Jaeger's rate-limiting sampler does).
A trace that is not recorded still propagates: its ``traceparent`` carries flag ``00``, so
every later hop (delivery, router, the function, the replies of a saga) leaves it out too and
a recorded trace is always whole. Below the limit every trace is recorded, which is what a
user sending a few requests (and every test) sees.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TraceBudget:
    """At most ``per_second`` new traces recorded a second, with a burst of one second's worth."""

    __slots__ = ("_at", "_burst", "_clock", "_tokens", "per_second")

    def __init__(self, per_second: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self._clock = clock
        self._burst = max(per_second, 1.0)
        self._tokens = self._burst
        self._at = clock()

    def take(self) -> bool:
        """Whether the next new trace is recorded (it uses one of this second's places)."""
        now = self._clock()
        tokens = self._tokens + (now - self._at) * self.per_second
        self._at = now
        if tokens > self._burst:
            tokens = self._burst
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            return True
        self._tokens = tokens
        return False
