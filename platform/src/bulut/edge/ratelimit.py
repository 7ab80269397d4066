"""Per-client token buckets: ``rate`` tokens a second, up to ``burst`` at once.

Pure arithmetic on an injected clock; the limiter keeps at most ``max_clients`` buckets
(least recently used are dropped, which only ever forgives a client).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from bulut.errors import InvalidInputError


@dataclass
class TokenBucket:
    """One client's bucket."""

    rate: float
    burst: float
    tokens: float
    updated: float

    def take(self, now: float, cost: float = 1.0) -> float:
        """Take ``cost`` tokens; returns 0 when allowed, else seconds until it would be."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        return (cost - self.tokens) / self.rate


def parse_rate(text: str) -> tuple[float, float]:
    """``"100/s"``, ``"600/m"`` or ``"100/s,burst=200"`` → (tokens per second, burst)."""
    rate_part, _, burst_part = text.partition(",")
    count, _, unit = rate_part.strip().partition("/")
    seconds = {"s": 1.0, "m": 60.0, "h": 3600.0}.get(unit.strip() or "s")
    try:
        rate = float(count) / seconds if seconds else -1.0
        burst = float(burst_part.split("=", 1)[1]) if burst_part else max(1.0, rate)
    except (ValueError, IndexError):
        rate, burst = -1.0, -1.0
    if rate <= 0 or burst < 1:
        raise InvalidInputError(
            f"rate limit {text!r}: expected N/s, N/m or N/h with an optional ,burst=M",
            field="rate_limit",
        )
    return rate, burst


class RateLimiter:
    """Token buckets keyed by client (address or token subject)."""

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._max = max_clients
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def check(self, client: str) -> int:
        """0 if the request may pass, else whole seconds for ``Retry-After`` (at least 1)."""
        now = self._clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = TokenBucket(self.rate, self.burst, self.burst, now)
            self._buckets[client] = bucket
            if len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(client)
        wait = bucket.take(now)
        return 0 if wait == 0.0 else max(1, math.ceil(wait))
