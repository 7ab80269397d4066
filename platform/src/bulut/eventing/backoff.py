"""Retry waits, as Knative's dispatcher computes them (pure).

Knative hands go-retryablehttp a backoff function ``delay × n`` (linear) or
``delay × 2^n`` (exponential), and go-retryablehttp calls it with the **zero-based**
retry index. So the waits before retry #1, #2, #3 are ``d, 2d, 4d`` (exponential)
and ``0, d, 2d`` (linear). The docs' formula reads as one-based; we follow the
production call path (see docs/eventing.md).
"""

from __future__ import annotations

from enum import StrEnum


class BackoffPolicy(StrEnum):
    """``spec.delivery.backoffPolicy``."""

    linear = "linear"
    exponential = "exponential"


def retry_wait(policy: BackoffPolicy | None, delay: float | None, retry_index: int) -> float:
    """Seconds to wait before the retry with zero-based index ``retry_index``.

    No policy or no delay means retrying at once, as in Knative.
    """
    if policy is None or delay is None or delay <= 0:
        return 0.0
    if policy is BackoffPolicy.linear:
        return delay * retry_index
    return delay * float(2**retry_index)


def retry_after_wait(
    backoff: float, retry_after: float | None, retry_after_max: float | None
) -> float:
    """Knative's ``retryAfterMax`` rule: ``max(backoff, min(Retry-After, retryAfterMax))``.

    Only applies when ``retryAfterMax`` is set and positive (``PT0S`` disables it).
    """
    if retry_after is None or retry_after_max is None or retry_after_max <= 0:
        return backoff
    return max(backoff, min(retry_after, retry_after_max))
