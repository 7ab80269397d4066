"""Runs PingSources: sleeps until each tick (plus jitter) and sends one event."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bulut.edge.identity import Identity, ping_source
from bulut.events import CloudEvent

from .ping import PingSpec, jitter, next_fire, ping_event

log = logging.getLogger(__name__)

SendToSink = Callable[[str, CloudEvent, Identity], Awaitable[int]]
"""(sink URL, event, sender) -> HTTP status (0 = no answer)."""


class PingRunner:
    """One task per PingSource; replacing a spec restarts its task."""

    def __init__(self, send: SendToSink) -> None:
        self._send = send
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self.sent = 0

    def apply(self, spec: PingSpec) -> None:
        """Start (or restart) the PingSource ``spec``."""
        self.remove((spec.namespace, spec.name))
        self._tasks[(spec.namespace, spec.name)] = asyncio.create_task(self._run(spec))

    def remove(self, key: tuple[str, str]) -> None:
        """Stop a PingSource."""
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()

    async def _run(self, spec: PingSpec) -> None:
        while True:
            now = datetime.now(UTC)
            tick = next_fire(spec.schedule, spec.timezone, now)
            await asyncio.sleep(max((tick - now).total_seconds(), 0.0) + jitter())
            if not spec.sink_uri:
                log.warning("pingsource %s/%s has no sink yet", spec.namespace, spec.name)
                continue
            event = ping_event(spec, datetime.now(UTC))
            status = await self._send(spec.sink_uri, event, ping_source(spec.namespace, spec.name))
            self.sent += 1
            if not 200 <= status < 300:
                log.warning(
                    "pingsource %s/%s: sink %s answered %s",
                    spec.namespace,
                    spec.name,
                    spec.sink_uri,
                    status,
                )

    async def aclose(self) -> None:
        """Stop every PingSource."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
