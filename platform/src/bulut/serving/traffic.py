"""Traffic: the host table built from Routes, and the weighted choice of a revision (pure).

A Route's ``status.traffic`` is already resolved by the control plane (``latestRevision``
entries name latestReady). The route host ``<svc>.<ns>.<domain>`` splits by percent
over every target; each tagged target also gets its own host ``<tag>-<svc>.<ns>.<domain>``
with all of that host's traffic (a 0 % tag is reachable only there). The route host's
split also knows its tags, for ``Knative-Serving-Tag`` header routing.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Split:
    """Revisions behind one host with their cumulative percents."""

    namespace: str
    service: str
    revisions: tuple[str, ...]
    cumulative: tuple[int, ...]
    tags: Mapping[str, str] = field(default_factory=dict)  # tag -> revision (header routing)

    @classmethod
    def of(
        cls,
        namespace: str,
        service: str,
        targets: Iterable[tuple[str, int]],
        tags: Mapping[str, str] | None = None,
    ) -> Split:
        """A split over (revision, percent) pairs; zero-percent entries are dropped."""
        revisions: list[str] = []
        cumulative: list[int] = []
        total = 0
        for revision, percent in targets:
            if percent > 0 and revision:
                total += percent
                revisions.append(revision)
                cumulative.append(total)
        return cls(namespace, service, tuple(revisions), tuple(cumulative), dict(tags or {}))

    def choose(self, roll: float) -> str | None:
        """The revision for ``roll`` in [0, 1); None when nothing has traffic."""
        if not self.revisions:
            return None
        if len(self.revisions) == 1:
            return self.revisions[0]
        point = roll * self.cumulative[-1]
        index = bisect.bisect_right(self.cumulative, point)
        return self.revisions[min(index, len(self.revisions) - 1)]


def host_of(url: str) -> str:
    """The lower-case host name of a URL, without port."""
    return (urlsplit(url).hostname or "").lower()


def normalise_host(header: bytes) -> str:
    """A Host header value as a table key: lower case, port stripped."""
    host = header.decode("latin-1").strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def route_hosts(route: Mapping[str, Any]) -> dict[str, Split]:
    """The hosts one Route serves, from its status (url and traffic)."""
    meta = route.get("metadata", {})
    namespace = str(meta.get("namespace", "default"))
    name = str(meta.get("name", ""))
    status = route.get("status") or {}
    traffic = [t for t in status.get("traffic") or [] if isinstance(t, Mapping)]
    hosts: dict[str, Split] = {}
    main = host_of(str(status.get("url") or ""))
    if main:
        pairs = [(str(t.get("revisionName") or ""), int(t.get("percent") or 0)) for t in traffic]
        tags = {
            str(t["tag"]): str(t.get("revisionName") or "")
            for t in traffic
            if t.get("tag") and t.get("revisionName")
        }
        hosts[main] = Split.of(namespace, name, pairs, tags)
    by_tag: dict[str, list[tuple[str, int]]] = {}
    for target in traffic:
        tag_host = host_of(str(target.get("url") or ""))
        if target.get("tag") and tag_host:
            by_tag.setdefault(tag_host, []).append((str(target.get("revisionName") or ""), 100))
    for tag_host, pairs in by_tag.items():
        hosts[tag_host] = Split.of(namespace, name, pairs[:1])
    return hosts


def host_table(routes: Iterable[Mapping[str, Any]]) -> dict[str, Split]:
    """The data plane's whole host table from every Route."""
    table: dict[str, Split] = {}
    for route in routes:
        table.update(route_hosts(route))
    return table
