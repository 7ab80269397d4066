"""The live tail: accepted events and finished deliveries, fanned out to watchers.

Publishing costs nothing when nobody watches. A slow watcher loses records (it has a
bounded queue) rather than slowing the broker down; it is told how many it missed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .records import Outcome, StoredEvent

Record = dict[str, Any]


class Tail:
    """A broadcast of eventing records to any number of watchers."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._watchers: set[asyncio.Queue[Record]] = set()
        self._queue_size = queue_size
        self.dropped = 0

    def publish(self, record: Record) -> None:
        """Offer ``record`` to every watcher without waiting."""
        for queue in self._watchers:
            try:
                queue.put_nowait(record)
            except asyncio.QueueFull:
                self.dropped += 1

    @property
    def watched(self) -> bool:
        """Whether anybody is watching."""
        return bool(self._watchers)

    async def watch(self) -> AsyncGenerator[Record, None]:
        """Yield records from now on until the caller stops iterating."""
        queue: asyncio.Queue[Record] = asyncio.Queue(self._queue_size)
        self._watchers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._watchers.discard(queue)


def delivery_record(event: StoredEvent, outcome: Outcome) -> Record:
    """The tail record of a finished delivery."""
    return {
        "kind": "delivery",
        "seq": event.seq,
        "id": event.id,
        "trigger": outcome.trigger,
        "outcome": outcome.outcome,
        "attempts": outcome.attempts,
        "code": outcome.code,
        "destination": outcome.destination,
        "detail": outcome.detail,
        "at": outcome.finished,
    }
