"""Fan-out of resource events to watchers, and a window of recent events to resume from.

Every event carries its object's ``metadata.resourceVersion``; the hub keeps the latest
:data:`HISTORY` of them, so a watch can start "after version N" (kube-apiserver's watch
cache). A version older than the window is gone (410 Expired: the client lists again).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable

from bulut.apis.registry import registry
from bulut.manifests.feed import ResourceEvent

_CLOSED = None
HISTORY = 10_000


def _watched(event: ResourceEvent, keys: frozenset[str]) -> bool:
    """Whether an event's object is of one of these kinds (store keys; all when empty)."""
    return not keys or registry().key_of(event["object"]) in keys


class Subscription:
    """One watcher's queue of events for a set of kinds (store keys: ``Service`` is
    Knative's, ``Service.core`` the core v1 one)."""

    def __init__(self, kinds: frozenset[str]) -> None:
        self.kinds = kinds
        self.queue: asyncio.Queue[ResourceEvent | None] = asyncio.Queue()

    def offer(self, event: ResourceEvent) -> None:
        """Queue the event if its kind is watched."""
        if _watched(event, self.kinds):
            self.queue.put_nowait(event)

    async def next(self) -> ResourceEvent | None:
        """The next event, or None once the hub has closed."""
        return await self.queue.get()


def version_of(event: ResourceEvent) -> int:
    """The resourceVersion an event carries (0 when it has none)."""
    text = str(event["object"].get("metadata", {}).get("resourceVersion") or "0")
    return int(text) if text.isdigit() else 0


class WatchHub:
    """Publishes events to every subscription; closing ends every watch."""

    def __init__(self, start_version: int = 0) -> None:
        self._subscriptions: set[Subscription] = set()
        self._history: deque[ResourceEvent] = deque(maxlen=HISTORY)
        self.oldest = start_version  # a watch may resume from any version >= this one
        self.closed = False

    def subscribe(self, kinds: frozenset[str]) -> Subscription:
        """A new subscription (call ``unsubscribe`` when done)."""
        subscription = Subscription(kinds)
        if self.closed:
            subscription.queue.put_nowait(_CLOSED)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget a subscription."""
        self._subscriptions.discard(subscription)

    def publish(self, events: Iterable[ResourceEvent]) -> None:
        """Deliver events, in order, to every interested subscription."""
        for event in events:
            if len(self._history) == self._history.maxlen:
                self.oldest = version_of(self._history[0])
            self._history.append(event)
            for subscription in self._subscriptions:
                subscription.offer(event)

    def since(self, version: int, kinds: frozenset[str]) -> list[ResourceEvent] | None:
        """Events of these kinds after ``version``; None when it is older than the window."""
        if version < self.oldest:
            return None
        return [e for e in self._history if version_of(e) > version and _watched(e, kinds)]

    def close(self) -> None:
        """End every watch."""
        self.closed = True
        for subscription in self._subscriptions:
            subscription.queue.put_nowait(_CLOSED)
