"""The router: which revision answers a request (Knative's ingress routing, pure).

A request's Host is looked up in the table built from Route status
(``<svc>.<ns>.<domain>`` splits by percent, ``<tag>-<svc>.<ns>.<domain>`` goes to the
tagged revision). With the ``tag-header-based-routing`` feature enabled
(``config-features``), a ``Knative-Serving-Tag: <tag>`` header on the route's own host
picks the tagged revision instead; an unknown tag falls back to the percent split, as
Knative's generated ingress rules do. Hosts that are not service hosts go to
``fallback`` (the broker ingress) or get 404. The I/O lives in
:mod:`bulut.serving.gateway`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import MutableMapping
from typing import Any

from bulut.observability.metrics import PlatformMetrics
from bulut.observability.tracer import Tracer
from bulut.serving.revisions import RevisionRuntime
from bulut.serving.traffic import Split, normalise_host

TAG_HEADER = b"knative-serving-tag"


class Router:
    """The host table, the revisions behind it, and what answers every other host."""

    def __init__(
        self,
        revisions: MutableMapping[tuple[str, str], RevisionRuntime],
        *,
        fallback: Any = None,
        tracer: Tracer | None = None,
        metrics: PlatformMetrics | None = None,
    ) -> None:
        self.revisions = revisions
        self.tracer = tracer if tracer is not None else Tracer.disabled()
        self.metrics = metrics
        self._table: dict[str, Split] = {}
        self._by_header: dict[bytes, Split | None] = {}
        self.fallback = fallback  # an ASGI app or a native handler (see gateway)
        self.default: Split | None = None  # every other host (`bulut func run`)
        self.tag_header_routing = False
        # (namespace, revision) -> why NetworkPolicies refuse Knative's data path into its
        # pods (bulut.serving.networkpolicy; usually empty: one truthiness test per request)
        self.refusals: dict[tuple[str, str], str] = {}
        # Revisions whose runtime is being made (set when done), and those a request awaits.
        self.building: dict[tuple[str, str], asyncio.Event] = {}
        self.wanted: set[tuple[str, str]] = set()
        self._changes: list[asyncio.Future[None]] = []
        self._random = random.random

    @property
    def table(self) -> dict[str, Split]:
        """Host name -> split (replace it whole when Routes change)."""
        return self._table

    @table.setter
    def table(self, table: dict[str, Split]) -> None:
        self._table = table
        self._by_header = {}
        self.changed()

    def changed(self) -> None:
        """Routes changed or a revision's build ended: wake the requests held for them."""
        waiting, self._changes = self._changes, []
        for future in waiting:
            if not future.done():
                future.set_result(None)

    async def next_change(self) -> None:
        """Return at the next :meth:`changed`."""
        future = asyncio.get_running_loop().create_future()
        self._changes.append(future)
        await future

    def starting(self, split: Split) -> bool:
        """Whether a revision of ``split``'s service is being built or started: a route
        with no ready revision yet will have one (Knative's activator holds its requests)."""
        if any(namespace == split.namespace for namespace, _ in self.building):
            return True
        return any(
            namespace == split.namespace and runtime.spec.service == split.service
            for (namespace, _), runtime in self.revisions.items()
        )

    def split_for(self, host: bytes) -> Split | None:
        """The split serving ``host`` (a Host header value), or the default one."""
        try:
            split = self._by_header[host]
        except KeyError:
            split = self._table.get(normalise_host(host)) if host else None
            if len(self._by_header) < 4096:  # Host values seen, not one per request
                self._by_header[host] = split
        return split if split is not None else self.default

    def choose(self, split: Split, headers: list[tuple[bytes, bytes]]) -> str | None:
        """The revision for one request to ``split`` (lower-case ``headers``)."""
        if self.tag_header_routing and split.tags:
            for name, value in headers:
                if name == TAG_HEADER:
                    tagged = split.tags.get(value.decode("latin-1").strip())
                    if tagged:
                        return tagged
                    break
        return split.choose(self._random())

    def runtime(self, split: Split, revision: str | None) -> RevisionRuntime | None:
        """The running revision, when there is one."""
        return self.revisions.get((split.namespace, revision or ""))
