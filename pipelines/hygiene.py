"""What every pipeline carries: pod GC, a TTL, retries for network-bound steps.

reference/cluster-ops.md §2.4: ``podGC`` + ``ttlStrategy`` on every pipeline and
``retryStrategy`` with ``OnTransientError`` for steps that talk to the network.
"""

from __future__ import annotations

from hera.workflows import RetryStrategy
from hera.workflows.models import Backoff, PodGC, TTLStrategy

DAY = 86_400


def pod_gc() -> PodGC:
    """Delete each pod once it completes (logs go to the artifact repository)."""
    return PodGC(strategy="OnPodCompletion", delete_delay_duration="10m")


def ttl() -> TTLStrategy:
    """Keep a finished workflow a day, a failed one a week for debugging."""
    return TTLStrategy(seconds_after_success=DAY, seconds_after_failure=7 * DAY)


def transient_retry(limit: int = 3) -> RetryStrategy:
    """Retry network errors (registry, git remote, API server) with exponential backoff."""
    return RetryStrategy(
        limit=limit,
        retry_policy="OnTransientError",
        backoff=Backoff(duration="10s", factor=2, max_duration="5m"),
    )
