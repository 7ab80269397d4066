"""Fan-out of resource events to watchers (the ResourceFeed's ``watch`` side)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from bulut.manifests.feed import ResourceEvent

_CLOSED = None


class Subscription:
    """One watcher's queue of events for a set of kinds."""

    def __init__(self, kinds: frozenset[str]) -> None:
        self.kinds = kinds
        self.queue: asyncio.Queue[ResourceEvent | None] = asyncio.Queue()

    def offer(self, event: ResourceEvent) -> None:
        """Queue the event if its kind is watched."""
        if not self.kinds or event["object"].get("kind") in self.kinds:
            self.queue.put_nowait(event)

    async def next(self) -> ResourceEvent | None:
        """The next event, or None once the hub has closed."""
        return await self.queue.get()


class WatchHub:
    """Publishes events to every subscription; closing ends every watch."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
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
            for subscription in self._subscriptions:
                subscription.offer(event)

    def close(self) -> None:
        """End every watch."""
        self.closed = True
        for subscription in self._subscriptions:
            subscription.queue.put_nowait(_CLOSED)
