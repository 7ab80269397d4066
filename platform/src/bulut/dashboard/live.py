"""The dashboard's live view of the platform: resources by kind and scale over time.

:class:`LiveState` applies ResourceFeed events (pure bookkeeping, :meth:`LiveState.apply`)
and wakes whoever waits in :meth:`LiveState.wait` when something changed. Each
revision's ``status.actualReplicas``/``desiredReplicas`` is kept as a bounded time series,
so a scale 0 → N → 0 stays visible after it happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bulut.apis.registry import registry
from bulut.manifests.feed import Resource, ResourceEvent, ResourceFeed, key_of

KINDS = frozenset(
    {
        "Service",
        "Revision",
        "Route",
        "Broker",
        "Trigger",
        "PingSource",
        "SinkBinding",
        "Channel",
        "InMemoryChannel",
        "KafkaChannel",
        "Subscription",
        "Sequence",
        "Parallel",
        "EventType",
    }
)
SOURCES_GROUP = "sources.knative.dev"


def source_kinds() -> frozenset[str]:
    """Every served kind of ``sources.knative.dev`` (new source kinds appear by themselves)."""
    return frozenset(r.kind for r in registry() if r.group == SOURCES_GROUP)


MAX_POINTS = 2000
Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ScalePoint:
    """A revision's instance counts from one moment on."""

    at: float
    actual: int
    desired: int


def _int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def scale_of(revision: Resource) -> tuple[int, int]:
    """(actual, desired) instances from a Revision's status."""
    status = revision.get("status") or {}
    return _int(status.get("actualReplicas")), _int(status.get("desiredReplicas"))


class LiveState:
    """Resources by kind and (namespace, name), plus scale series per revision."""

    def __init__(
        self, *, max_points: int = MAX_POINTS, clock: Callable[[], float] = time.time
    ) -> None:
        self.kinds = KINDS | source_kinds()
        self.objects: dict[str, dict[Key, Resource]] = {kind: {} for kind in self.kinds}
        self.series: dict[Key, deque[ScalePoint]] = {}
        self.version = 0
        self.closed = False
        self.max_points = max_points
        self._clock = clock
        self._changed = asyncio.Event()

    def apply(self, event: ResourceEvent) -> None:
        """Apply one watch event."""
        kind, namespace, name = key_of(event["object"])
        if kind not in self.objects:
            return
        key = (namespace, name)
        if event["type"] == "DELETED":
            self.objects[kind].pop(key, None)
            if kind == "Revision":
                self.series.pop(key, None)
        else:
            self.objects[kind][key] = event["object"]
            if kind == "Revision":
                self._sample(key, event["object"])
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    def _sample(self, key: Key, revision: Resource) -> None:
        actual, desired = scale_of(revision)
        points = self.series.setdefault(key, deque(maxlen=self.max_points))
        if points and (points[-1].actual, points[-1].desired) == (actual, desired):
            return
        points.append(ScalePoint(self._clock(), actual, desired))

    def items(self, kind: str) -> list[Resource]:
        """Resources of one kind, by namespace then name."""
        return [obj for _, obj in sorted(self.objects.get(kind, {}).items())]

    async def follow(self, feed: ResourceFeed) -> None:
        """Apply the feed's events until cancelled."""
        async for event in feed.watch(self.kinds):
            self.apply(event)

    def close(self) -> None:
        """Wake every waiter for good (the dashboard is shutting down)."""
        self.closed = True
        self._changed.set()

    async def wait(self, seen: int, timeout: float) -> int:
        """Wait until the version is no longer ``seen``, or ``timeout`` seconds; the version."""
        if self.version == seen and not self.closed:
            with contextlib.suppress(TimeoutError):  # not wait_for: it can swallow a cancel
                async with asyncio.timeout(timeout):
                    await self._changed.wait()
        return self.version
