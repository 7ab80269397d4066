"""Window averages over 1-second buckets, as Knative's ``aggregation/bucketing.go`` computes them.

``values`` maps a second (``floor(t)``) to that bucket's value; a key that is present is a
*write* (even with value 0: instances report every second while they exist). The two
algorithms are the ``metric-aggregation-algorithm`` values:

* **linear** — the sum of the buckets in the window divided by the number of seconds since
  the first write (capped at the window); data that stopped less than a window ago shrinks
  the window from the old end. A write after a gap of a whole window restarts "first write".
* **weighted-exponential** — exponential smoothing of the buckets, newest weighted most,
  with a coefficient chosen so the weights sum to 0.9999 over the window (at least 0.2).

Both answer ``None`` when nothing was written for more than the window ("no data").
"""

from __future__ import annotations

import math
from collections.abc import Mapping

WEIGHT_PRECISION = 0.9999
MIN_EXPONENT = 0.2


def smoothing_coefficient(buckets: int) -> float:
    """The decay multiplier of the weighted-exponential average for ``buckets`` buckets."""
    decay: float = (1.0 - WEIGHT_PRECISION) ** (1.0 / buckets)
    return max(1.0 - decay, MIN_EXPONENT)


def _last_write(values: Mapping[int, float]) -> int | None:
    """The newest written second (it may lie after a lagging ``now``)."""
    return max(values) if values else None


def _first_write(values: Mapping[int, float], last: int, buckets: int) -> int:
    """Knative's ``firstWrite``: the start of the run of writes with no gap of a window.

    Stops early once the run covers the whole window (the divisor is capped there).
    """
    first = last
    for second in sorted((s for s in values if s < last), reverse=True):
        if first - second >= buckets:
            break
        first = second
        if first <= last - buckets:
            break
    return first


def linear_average(values: Mapping[int, float], now: float, window: float) -> float | None:
    """The linear window average at time ``now``, or ``None`` when the window holds no data."""
    buckets = math.ceil(window)
    current = math.floor(now)
    last = _last_write(values)
    if last is None or current - last > buckets:
        return None
    gap = max(0, current - last)
    if gap >= buckets:
        return 0.0
    oldest = max(current, last) - buckets
    total = sum(value for second, value in values.items() if oldest < second <= last)
    first = _first_write(values, last, buckets)
    return total / min(last - first + 1, buckets - gap)


def weighted_average(
    values: Mapping[int, float], now: float, window: float, *, coefficient: float | None = None
) -> float | None:
    """The weighted-exponential window average at ``now``, or ``None`` when there is no data.

    ``coefficient`` overrides the decay computed from the window (for worked examples).
    """
    buckets = math.ceil(window)
    current = math.floor(now)
    last = _last_write(values)
    if last is None or current - last > buckets:
        return None
    if coefficient is None:
        coefficient = smoothing_coefficient(buckets)
    gap = max(0, current - last)
    multiplier = coefficient * (1.0 - coefficient) ** gap
    result = 0.0
    for offset in range(buckets - gap):
        result += values.get(last - offset, 0.0) * multiplier
        multiplier *= 1.0 - coefficient
    return result


def window_average(
    values: Mapping[int, float], now: float, window: float, algorithm: str
) -> float | None:
    """The window average with the named algorithm (``linear`` or ``weighted-exponential``)."""
    if algorithm == "weighted-exponential":
        return weighted_average(values, now, window)
    return linear_average(values, now, window)
