"""queue-proxy's breaker: the containerConcurrency hard limit of one instance.

With ``containerConcurrency`` N ≥ 1 an instance admits N requests at once and queues
up to 10 × N more; beyond that Knative answers **503** "pending request queue full"
(``pkg/queue/breaker.go``); a request longer than ``timeoutSeconds`` gets **504**
"request timeout". N = 0 means no limit: no breaker at all. Pure asyncio
bookkeeping, no I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from bulut.errors import BulutError

QUEUE_DEPTH_FACTOR = 10


class QueueFullError(BulutError):
    """A breaker or activator queue is full: Knative's 503."""

    http_status = 503
    title = "Service unavailable"

    def __init__(self) -> None:
        super().__init__("pending request queue full")


class Breaker:
    """CC slots and a FIFO of waiters; ``capacity`` 0 means unlimited."""

    def __init__(self, capacity: int, queue_depth: int | None = None) -> None:
        self.capacity = capacity
        self.queue_depth = QUEUE_DEPTH_FACTOR * capacity if queue_depth is None else queue_depth
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def has_free_slot(self) -> bool:
        """True when a request could start right now."""
        return self.capacity == 0 or self.in_flight < self.capacity

    @property
    def waiting(self) -> int:
        """Requests queued for a slot."""
        return len(self._waiters)

    def try_acquire(self) -> bool:
        """Take a slot if one is free, without waiting."""
        if self._waiters or not self.has_free_slot:
            return False
        self.in_flight += 1
        return True

    async def acquire(self) -> None:
        """Take a slot, queueing FIFO; :class:`QueueFullError` when the queue is full."""
        if self.try_acquire():
            return
        if len(self._waiters) >= self.queue_depth:
            raise QueueFullError()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release()  # the slot was handed over just as we gave up
            else:
                self._discard(waiter)
            raise

    def _discard(self, waiter: asyncio.Future[None]) -> None:
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)

    def release(self) -> bool:
        """Give the slot to the next waiter; True when it became free instead."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return False
        self.in_flight -= 1
        return True

    def fail_waiters(self, error: BaseException) -> None:
        """Wake every queued request with ``error`` (its instance went away)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(error)


class RequestTimeoutError(BulutError):
    """The request outlived timeoutSeconds at the instance: queue-proxy's 504."""

    http_status = 504
    title = "Gateway timeout"

    def __init__(self) -> None:
        super().__init__("request timeout")
