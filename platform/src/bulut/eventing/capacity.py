"""Back-pressure: how many deliveries each subscriber gets at once.

A Knative Service takes ``containerConcurrency × max-scale`` requests at once when
both are set; more would only queue in the activator and come back as 503s. So every
attempt to a subscriber holds one slot of a semaphore sized to that capacity (a
configurable default when the Service does not bound itself, or the subscriber is
not a Service of this platform). 503 and 429 stay retryable as in Knative.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from .resources import key_of, service_capacity
from .sinks import Target

DEFAULT_CAPACITY = 100


class Capacity:
    """Semaphores per subscriber, sized from the Services the feed reports."""

    def __init__(self, default: int = DEFAULT_CAPACITY) -> None:
        self.default = default
        self._limits: dict[tuple[str, str], int] = {}
        self._gates: dict[object, tuple[int, asyncio.Semaphore]] = {}

    def set_service(self, obj: Mapping[str, Any]) -> None:
        """Learn (or update) a Service's capacity."""
        self._limits[key_of(obj)] = service_capacity(obj, self.default)

    def remove_service(self, key: tuple[str, str]) -> None:
        """Forget a deleted Service."""
        self._limits.pop(key, None)

    def limit_for(self, target: Target) -> int:
        """The capacity that applies to ``target``."""
        if target.service is not None:
            return self._limits.get(target.service, self.default)
        return self.default

    def gate(self, target: Target) -> asyncio.Semaphore:
        """The semaphore an attempt to ``target`` must hold while on the wire."""
        key: object = target.service or (
            target.connect_host,
            target.connect_port,
            target.host_header,
        )
        limit = self.limit_for(target)
        current = self._gates.get(key)
        if current is None or current[0] != limit:
            current = (limit, asyncio.Semaphore(limit))
            self._gates[key] = current
        return current[1]
