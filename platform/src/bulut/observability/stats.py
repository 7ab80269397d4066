"""What the metrics read from the planes: plain snapshots behind small Protocols.

Serving, eventing and DR never import this package's collectors, and this package never
imports them: ``bulut.local.stats`` adapts their objects to these Protocols (a few lines
each, see docs/observability.md). Snapshots are taken at scrape time, so the hot paths
pay nothing for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RevisionStats:
    """One revision's scaling and queueing facts right now."""

    namespace: str
    revision: str
    service: str = ""
    configuration: str = ""
    desired: int = 0
    actual: int = 0
    ready: int = 0
    in_flight: int = 0
    queued: int = 0
    cold_starts: Mapping[str, int] = field(default_factory=dict)
    stable_concurrency: float | None = None
    panic_concurrency: float | None = None
    target_concurrency: float | None = None
    excess_burst_capacity: float | None = None
    panicking: bool | None = None


class RevisionStatsSource(Protocol):
    """Anything that can list revision snapshots (serving, adapted in the stack)."""

    def revision_stats(self) -> Iterable[RevisionStats]:
        """A snapshot of every revision the data plane runs."""
        ...


@dataclass(frozen=True, slots=True)
class TriggerStats:
    """One trigger's delivery backlog right now."""

    namespace: str
    trigger: str
    broker: str = ""
    pending: int = 0
    in_progress: int = 0


@dataclass(frozen=True, slots=True)
class BrokerStats:
    """The eventing data plane's totals and per-trigger backlog."""

    accepted: int = 0
    log_head: int = 0
    triggers: tuple[TriggerStats, ...] = ()


class BrokerStatsSource(Protocol):
    """Anything that can report broker and trigger snapshots (eventing, adapted)."""

    def broker_stats(self) -> BrokerStats:
        """A snapshot of the eventing data plane."""
        ...


@dataclass(frozen=True, slots=True)
class BackupStats:
    """When a backup schedule last completed (Unix seconds)."""

    schedule: str
    last_successful: float


class BackupStatsSource(Protocol):
    """Anything that knows the last successful backup per schedule (DR, adapted)."""

    def backup_stats(self) -> Iterable[BackupStats]:
        """The last successful backup of each schedule."""
        ...


class EdgeStatsSource(Protocol):
    """The edge middleware's rejection counters (``EdgeMiddleware.rejected`` fits)."""

    @property
    def rejected(self) -> Mapping[int, int]:
        """Rejected requests by HTTP status (401, 403, 429)."""
        ...


class EdgeRejections:
    """An :class:`EdgeStatsSource` over every front door (control and data plane), summed."""

    def __init__(self, *sources: EdgeStatsSource | None) -> None:
        self.sources = [source for source in sources if source is not None]

    @property
    def rejected(self) -> Mapping[int, int]:
        """Rejected requests by HTTP status, over every source."""
        total: dict[int, int] = {}
        for source in self.sources:
            for status, count in source.rejected.items():
                total[status] = total.get(status, 0) + count
        return total


class LastBackups:
    """A :class:`BackupStatsSource` fed as backups finish (e.g. a schedule's ``on_backup``)."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def record(self, schedule: str, finished: float) -> None:
        """A backup of ``schedule`` completed at Unix time ``finished``."""
        self._last[schedule] = max(finished, self._last.get(schedule, 0.0))

    def backup_stats(self) -> list[BackupStats]:
        """The last successful backup of each schedule."""
        return [BackupStats(name, when) for name, when in sorted(self._last.items())]
