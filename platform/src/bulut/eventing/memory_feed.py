"""An in-memory ``ResourceFeed``: the eventing data plane without a control plane.

Used by ``python -m bulut.eventing.standalone`` and by tests; it behaves like the
control plane's feed (every existing object as ADDED, then changes, in order).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from bulut.manifests.feed import EventType, Resource, ResourceEvent, initial_order


class MemoryFeed:
    """Resources held in memory; :meth:`put` and :meth:`delete` publish changes."""

    def __init__(self, resources: Iterable[Resource] = ()) -> None:
        self._objects: dict[tuple[str, str, str], Resource] = {}
        self._watchers: list[tuple[frozenset[str], asyncio.Queue[ResourceEvent]]] = []
        self.reports: list[tuple[str, str, str, Mapping[str, Any]]] = []
        for obj in resources:
            self._objects[_key(obj)] = obj

    def put(self, obj: Resource) -> None:
        """Create or replace a resource."""
        key = _key(obj)
        change: EventType = "MODIFIED" if key in self._objects else "ADDED"
        self._objects[key] = obj
        self._publish(change, obj)

    def delete(self, obj: Resource) -> None:
        """Delete a resource."""
        removed = self._objects.pop(_key(obj), None)
        if removed is not None:
            self._publish("DELETED", removed)

    def _publish(self, change: EventType, obj: Resource) -> None:
        for kinds, queue in self._watchers:
            if obj.get("kind") in kinds:
                queue.put_nowait({"type": change, "object": obj})

    async def watch(
        self, kinds: frozenset[str], *, existing: bool = True
    ) -> AsyncIterator[ResourceEvent]:
        """Every existing object of ``kinds`` as ADDED (unless ``existing`` is False), then
        each change."""
        queue: asyncio.Queue[ResourceEvent] = asyncio.Queue()
        entry = (kinds, queue)
        self._watchers.append(entry)
        try:
            for obj in initial_order(self._objects.values()) if existing else ():
                if obj.get("kind") in kinds:
                    yield {"type": "ADDED", "object": obj}
            while True:
                yield await queue.get()
        finally:
            self._watchers.remove(entry)

    async def report(
        self, kind: str, namespace: str, name: str, runtime: Mapping[str, Any]
    ) -> None:
        """Keep reports for inspection."""
        self.reports.append((kind, namespace, name, runtime))


def _key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (str(obj.get("kind")), str(meta.get("namespace") or "default"), str(meta.get("name")))
