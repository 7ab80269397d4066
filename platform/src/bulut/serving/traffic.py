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
from dataclasses import dataclass, field, replace
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
    # A DomainMapping's host: the request goes on with ``Host: target_host`` and
    # ``K-Original-Host: <the mapped domain>``, as Knative's KIngress rewrites it.
    target_host: str = ""
    original_host: str = ""

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


def host_table(
    routes: Iterable[Mapping[str, Any]], mappings: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Split]:
    """The data plane's whole host table from every Route, and every Ready DomainMapping's
    domain routed as its target's host (:func:`mapped_hosts`)."""
    table: dict[str, Split] = {}
    by_key: dict[tuple[str, str], str] = {}
    for route in routes:
        table.update(route_hosts(route))
        meta = route.get("metadata", {})
        key = (str(meta.get("namespace", "default")), str(meta.get("name", "")))
        by_key[key] = host_of(str((route.get("status") or {}).get("url") or ""))
    table.update(mapped_hosts(mappings, by_key, table))
    return table


def _ready(resource: Mapping[str, Any]) -> bool:
    conditions = (resource.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def mapped_hosts(
    mappings: Iterable[Mapping[str, Any]],
    route_hosts_by_key: Mapping[tuple[str, str], str],
    table: Mapping[str, Split],
) -> dict[str, Split]:
    """Each Ready DomainMapping's domain -> the split of the Service's (or Route's) host:
    a Knative Service's Route has the Service's name."""
    mapped: dict[str, Split] = {}
    for mapping in mappings:
        if not _ready(mapping):
            continue
        meta = mapping.get("metadata", {})
        namespace = str(meta.get("namespace", "default"))
        ref = (mapping.get("spec") or {}).get("ref") or {}
        target = route_hosts_by_key.get((namespace, str(ref.get("name", ""))), "")
        split = table.get(target)
        if split is not None:
            domain = str(meta.get("name", "")).lower()
            mapped[domain] = replace(split, target_host=target, original_host=domain)
    return mapped
