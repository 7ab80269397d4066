"""What HAProxy should route now, and the runtime API commands that get it there (pure).

A :class:`Plan` is made from the router's host table and a :class:`RevisionView` of each
revision: its backend (what the configuration holds), which instance port sits in which
slot (slots are kept stable, so a connection pool is never pointed elsewhere under a
request), and the two maps' entries. Only revisions with a ready instance get map entries;
a host or bucket without one goes to Bulut's gateway, the activator, which holds the request
and wakes the revision. :func:`commands` turns one plan into the next: slots made ready
before the maps point at them, map entries removed before their slots are disabled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bulut.serving.kingress.config import ACTIVATOR, Backend
from bulut.serving.traffic import Split

BUCKETS = 100  # a traffic split's resolution: Knative's percents


@dataclass(frozen=True)
class RevisionView:
    """What HAProxy needs of one revision at run time."""

    namespace: str
    name: str
    ready_ports: tuple[int, ...] = ()
    validates_events: bool = False
    container_concurrency: int = 0
    timeout_seconds: float = 300.0
    response_start_timeout_seconds: float = 0.0
    idle_timeout_seconds: float = 0.0
    slots: int = 100
    refused: bool = False  # a NetworkPolicy refuses the data path: the gateway answers 403

    @property
    def backend_name(self) -> str:
        """``ce:<ns>:<rev>`` for a CloudEvents function (its requests are checked), else
        ``rev:<ns>:<rev>``."""
        return f"{'ce' if self.validates_events else 'rev'}:{self.namespace}:{self.name}"

    def backend(self) -> Backend:
        """The backend section of this revision."""
        return Backend(
            name=self.backend_name,
            slots=max(1, self.slots),
            container_concurrency=self.container_concurrency,
            timeout_seconds=self.timeout_seconds,
            response_start_timeout_seconds=self.response_start_timeout_seconds,
            idle_timeout_seconds=self.idle_timeout_seconds,
        )


@dataclass(frozen=True)
class Plan:
    """Backends (the configuration), slots (port per slot number) and map entries."""

    backends: tuple[Backend, ...] = ()
    servers: Mapping[str, Mapping[int, int]] = field(default_factory=dict)
    routes: Mapping[str, str] = field(default_factory=dict)  # "<host>/<bucket>" -> backend
    tags: Mapping[str, str] = field(default_factory=dict)  # "<host>@<tag>" -> backend
    revisions: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # backend -> key


def assign_slots(previous: Mapping[int, int], ports: Iterable[int], slots: int) -> dict[int, int]:
    """Slot number (1-based) -> port: a port keeps its slot; a new one takes the lowest slot
    free in both the previous and the new assignment (a slot is never re-pointed in one
    step); ports beyond ``slots`` wait for a free one."""
    wanted = list(dict.fromkeys(ports))
    kept = {slot: port for slot, port in previous.items() if port in wanted and slot <= slots}
    placed = set(kept.values())
    taken = set(previous) | set(kept)
    free = (slot for slot in range(1, slots + 1) if slot not in taken)
    for port in wanted:
        if port in placed:
            continue
        slot = next(free, None)
        if slot is None:
            break
        kept[slot] = port
    return dict(sorted(kept.items()))


def make_plan(
    table: Mapping[str, Split],
    revisions: Iterable[RevisionView],
    *,
    tag_header_routing: bool = False,
    previous: Plan | None = None,
) -> Plan:
    """The plan for this host table and these revisions."""
    views = {(view.namespace, view.name): view for view in revisions}
    backends = tuple(view.backend() for view in views.values())
    old_servers = previous.servers if previous is not None else {}
    servers = {
        view.backend_name: assign_slots(
            old_servers.get(view.backend_name, {}), view.ready_ports, view.slots
        )
        for view in views.values()
    }

    def warm(namespace: str, revision: str | None) -> str | None:
        view = views.get((namespace, revision or ""))
        if view is None or view.refused or not servers[view.backend_name]:
            return None
        return view.backend_name

    routes: dict[str, str] = {}
    tags: dict[str, str] = {}
    for host, split in table.items():
        if split.original_host or not split.revisions:
            continue  # a DomainMapping's host (rewritten by the gateway), or nothing routed
        for bucket in range(BUCKETS):
            backend = warm(split.namespace, split.choose((bucket + 0.5) / BUCKETS))
            if backend is not None:
                routes[f"{host}/{bucket}"] = backend
        if tag_header_routing:
            for tag, revision in split.tags.items():
                tags[f"{host}@{tag}"] = warm(split.namespace, revision) or ACTIVATOR
    names = {view.backend_name: (view.namespace, view.name) for view in views.values()}
    return Plan(backends, servers, routes, tags, names)


def commands(old: Plan | None, new: Plan, routes_map: str, tags_map: str) -> list[str]:
    """Runtime API commands from ``old`` (None: a fresh process) to ``new``."""
    before = old if old is not None else Plan()
    ready: list[str] = []
    retired: list[str] = []
    for backend, slots in new.servers.items():
        was = before.servers.get(backend, {})
        for slot, port in slots.items():
            if was.get(slot) != port:
                server = f"{backend}/slot{slot}"
                ready += [
                    f"set server {server} addr 127.0.0.1 port {port}",
                    f"set server {server} state ready",
                ]
        retired += [
            f"set server {backend}/slot{slot} state maint" for slot in was if slot not in slots
        ]
    return [
        *ready,
        *_map_changes(before.routes, new.routes, routes_map),
        *_map_changes(before.tags, new.tags, tags_map),
        *retired,
    ]


def _map_changes(old: Mapping[str, str], new: Mapping[str, str], path: str) -> list[str]:
    changes = []
    for key, value in new.items():
        if key not in old:
            changes.append(f"add map {path} {key} {value}")
        elif old[key] != value:
            changes.append(f"set map {path} {key} {value}")
    changes += [f"del map {path} {key}" for key in old if key not in new]
    return changes


STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx", "other")  # show stat's hrsp_<class>


@dataclass(frozen=True)
class BackendLoad:
    """One backend's line of ``show stat``: requests in it now, and ever."""

    current: int  # scur: with an instance
    queued: int  # qcur: waiting for a slot
    total: int  # stot: sessions ever
    answered: Mapping[str, int] = field(default_factory=dict)  # status class -> responses ever

    @property
    def in_flight(self) -> int:
        """What the autoscaler counts: running and queued."""
        return self.current + self.queued


def parse_stat(csv: str) -> dict[str, BackendLoad]:
    """Backend rows of ``show stat`` (CSV with its ``# pxname,svname,...`` header line)."""
    lines = csv.splitlines()
    if not lines or not lines[0].startswith("# "):
        return {}
    columns = lines[0][2:].split(",")
    at = {name: index for index, name in enumerate(columns)}
    name, server, scur, qcur, stot = (at[c] for c in ("pxname", "svname", "scur", "qcur", "stot"))
    classes = [(s, at[f"hrsp_{s}"]) for s in STATUS_CLASSES if f"hrsp_{s}" in at]
    last = max([stot, *(column for _, column in classes)])
    loads: dict[str, BackendLoad] = {}
    for line in lines[1:]:
        cells = line.split(",")
        if len(cells) <= last or cells[server] != "BACKEND":
            continue
        loads[cells[name]] = BackendLoad(
            int(cells[scur] or 0),
            int(cells[qcur] or 0),
            int(cells[stot] or 0),
            {status: int(cells[column] or 0) for status, column in classes},
        )
    return loads
