"""The activator: holds requests while a revision has no instance able to take them.

Knative's activator buffers up to **10000** requests per revision
(``breakerQueueDepth``, ``pkg/activator/net/throttler.go``); a full queue answers **503**
"pending request queue full"; a request still waiting when the revision's
``timeoutSeconds`` run out answers **504** "activator request timeout". As soon as an
instance is ready (and, with containerConcurrency, has a free slot) the oldest held
request is handed to it. Generic over what is handed out; no I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

from bulut.errors import BulutError
from bulut.serving.queue import QueueFullError

ACTIVATOR_QUEUE_DEPTH = 10000

T = TypeVar("T")


class ActivatorTimeoutError(BulutError):
    """A held request outlived the revision's timeoutSeconds: Knative's 504."""

    http_status = 504
    title = "Gateway timeout"

    def __init__(self) -> None:
        super().__init__("activator request timeout")


class Activator(Generic[T]):
    """A FIFO of held requests, each waiting to be offered a ``T`` (an instance slot)."""

    def __init__(
        self, give_back: Callable[[T], None], queue_depth: int = ACTIVATOR_QUEUE_DEPTH
    ) -> None:
        self.queue_depth = queue_depth
        self._give_back = give_back
        self._held: deque[asyncio.Future[T]] = deque()

    @property
    def held(self) -> int:
        """Requests currently held."""
        return len(self._held)

    async def hold(self) -> T:
        """Wait to be offered a slot; :class:`QueueFullError` when 10000 already wait.

        The caller bounds the wait (``asyncio.timeout``) and maps expiry to
        :class:`ActivatorTimeoutError`.
        """
        if len(self._held) >= self.queue_depth:
            raise QueueFullError()
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._held.append(waiter)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._give_back(waiter.result())  # offered just as the request gave up
            else:
                with contextlib.suppress(ValueError):
                    self._held.remove(waiter)
            raise

    def offer(self, item: T) -> bool:
        """Hand ``item`` to the oldest held request; False when nobody is waiting."""
        while self._held:
            waiter = self._held.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return True
        return False

    def fail_all(self, error: BaseException) -> None:
        """Answer every held request with ``error`` (the revision went away)."""
        while self._held:
            waiter = self._held.popleft()
            if not waiter.done():
                waiter.set_exception(error)
