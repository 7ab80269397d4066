"""Runs ApiServerSources: one watch on the control plane per source, events to its sink.

Each source is a task that watches its kinds from now on (``existing=False``: the
adapter's informer emits nothing for its initial list), keeps the changes the source
selects (:mod:`.apiserver`) and sends each event to the sink through eventing's
delivery path with the adapter's retries (5 retries, exponential from 50 ms), then
drops it, as Knative's adapter does. Namespace labels come from the ``Namespace``
objects the eventing plane follows. While a source's watch runs it reports
``Deployed`` (and, with a namespace selector, ``status.namespaces``) to the control plane.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bulut.edge.identity import Identity, api_server_source
from bulut.events import CloudEvent
from bulut.manifests.feed import ResourceFeed

from .apiserver import ApiServerSpec, change_event, selected
from .tasks import SourceTasks

log = logging.getLogger(__name__)

SendToSink = Callable[[str, CloudEvent, Identity], Awaitable[int]]
"""(sink URL, event, sender) -> HTTP status (0 = no answer)."""
Sleep = Callable[[float], Awaitable[None]]
KIND = "ApiServerSource"
RETRIES = 5
FIRST_BACKOFF = 0.05


class ApiServerSources:
    """The running ApiServerSources of one data plane."""

    def __init__(
        self, feed: ResourceFeed, send: SendToSink, *, api_server: str, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._feed = feed
        self._send = send
        self._sleep = sleep
        self.api_server = api_server
        self._sources = SourceTasks[ApiServerSpec](KIND, self._run)
        self._labels: dict[str, dict[str, str]] = {}  # namespace -> labels
        self._reported: dict[tuple[str, str], list[str]] = {}
        self.sent = 0
        self.dropped = 0

    # -- desired state
    def apply(self, spec: ApiServerSpec) -> None:
        """Start a source, or restart it when its spec or sink changed."""
        key = (spec.namespace, spec.name)
        if self._sources.specs.get(key) != spec:
            self._reported.pop(key, None)
        self._sources.apply(key, spec)

    def remove(self, key: tuple[str, str]) -> None:
        """Stop a source."""
        self._reported.pop(key, None)
        self._sources.remove(key)

    def set_namespace(self, obj: Mapping[str, Any], *, deleted: bool) -> None:
        """A Namespace changed: its labels decide which sources with selectors watch it."""
        meta = obj.get("metadata") or {}
        name = str(meta.get("name") or "")
        if deleted:
            self._labels.pop(name, None)
        else:
            self._labels[name] = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
        for _, spec in self._sources.running():
            if spec.namespace_selector is not None:
                self._spawn_report(spec)

    async def aclose(self) -> None:
        """Stop every source."""
        await self._sources.aclose()

    # -- running
    def _watched(self, spec: ApiServerSpec) -> frozenset[str] | None:
        if spec.namespace_selector == "":
            return None  # {}: every namespace
        return frozenset(spec.namespaces(self._labels))

    async def _run(self, spec: ApiServerSpec) -> None:
        changes = self._feed.watch(spec.kinds, existing=False)
        # Scheduled now, it runs once the watch below has subscribed (the control plane's
        # lock is fair): whoever sees Deployed True sees every later change as an event.
        self._spawn_report(spec)
        try:
            async for change in changes:
                obj = change["object"]
                if not selected(spec, obj, self._watched(spec)):
                    continue
                if not spec.sink_uri:
                    log.warning("apiserversource %s/%s has no sink yet", spec.namespace, spec.name)
                    continue
                await self.deliver(spec, change_event(spec, change["type"], obj, self.api_server))
        finally:
            with contextlib.suppress(Exception):
                await changes.aclose()  # type: ignore[attr-defined]

    async def deliver(self, spec: ApiServerSpec, event: CloudEvent) -> bool:
        """Send one event with the adapter's retries; False when it was dropped."""
        assert spec.sink_uri is not None
        for attempt in range(RETRIES + 1):
            if attempt:
                await self._sleep(FIRST_BACKOFF * 2 ** (attempt - 1))
            status = await self._send(
                spec.sink_uri, event, api_server_source(spec.namespace, spec.name)
            )
            if 200 <= status < 300:
                self.sent += 1
                return True
        self.dropped += 1
        log.warning(
            "apiserversource %s/%s: sink %s refused %s after %d attempts (%s); dropped",
            spec.namespace,
            spec.name,
            spec.sink_uri,
            event.get("type"),
            RETRIES + 1,
            status,
        )
        return False

    def _spawn_report(self, spec: ApiServerSpec) -> None:
        task = asyncio.create_task(self._report(spec))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _report(self, spec: ApiServerSpec) -> None:
        key = (spec.namespace, spec.name)
        namespaces = spec.namespaces(self._labels)
        if self._reported.get(key) == namespaces:
            return
        self._reported[key] = namespaces
        runtime: dict[str, Any] = {
            "conditions": [{"type": "Deployed", "status": "True"}],
            "namespaces": namespaces,
        }
        try:
            await self._feed.report(KIND, spec.namespace, spec.name, runtime)
        except Exception as error:  # the source may be gone: its next apply reports again
            log.info("apiserversource %s/%s: report failed: %s", spec.namespace, spec.name, error)
            self._reported.pop(key, None)
