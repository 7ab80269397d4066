"""Scrape-time collectors: snapshots from the ``stats`` Protocols become metric families."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from . import names
from .stats import (
    BackupStatsSource,
    BrokerStatsSource,
    EdgeStatsSource,
    RevisionStats,
    RevisionStatsSource,
)


def _gauge(name: str, documentation: str, labels: tuple[str, ...]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=list(labels))


class RevisionCollector(Collector):
    """Scaling and queueing gauges per revision (Knative's autoscaler metrics)."""

    def __init__(self, source: RevisionStatsSource) -> None:
        self.source = source

    def describe(self) -> list[Metric]:
        """No samples at registration time (the source may not be running yet)."""
        return []

    def collect(self) -> Iterator[Metric]:
        """One family per fact, one sample per revision."""
        labels = names.REVISION_LABELS
        desired = _gauge(names.PODS_DESIRED, "Instances the autoscaler wants.", labels)
        count = _gauge(names.PODS_COUNT, "Instances starting or ready.", labels)
        not_ready = _gauge(names.PODS_NOT_READY, "Instances not ready yet.", labels)
        concurrency = _gauge(names.REQUEST_CONCURRENCY, "Requests in flight.", labels)
        queue = _gauge(names.QUEUE_DEPTH, "Requests waiting (activator + queues).", labels)
        stable = _gauge(names.CONCURRENCY_STABLE, "Stable-window average concurrency.", labels)
        panic = _gauge(names.CONCURRENCY_PANIC, "Panic-window average concurrency.", labels)
        target = _gauge(names.CONCURRENCY_TARGET, "Target concurrency per instance.", labels)
        excess = _gauge(names.CAPACITY_EXCESS, "Excess burst capacity.", labels)
        panicking = _gauge(names.PANIC_MODE, "1 while the autoscaler panics.", labels)
        cold = CounterMetricFamily(
            names.COLD_STARTS,
            "Instances started, by source (fork of the zygote or fresh spawn).",
            labels=[*labels, names.COLD_START_SOURCE],
        )
        for stats in self.source.revision_stats():
            values = _revision_labels(stats)
            desired.add_metric(values, stats.desired)
            count.add_metric(values, stats.actual)
            not_ready.add_metric(values, max(0, stats.actual - stats.ready))
            concurrency.add_metric(values, stats.in_flight)
            queue.add_metric(values, stats.queued)
            for family, value in (
                (stable, stats.stable_concurrency),
                (panic, stats.panic_concurrency),
                (target, stats.target_concurrency),
                (excess, stats.excess_burst_capacity),
            ):
                if value is not None:
                    family.add_metric(values, value)
            if stats.panicking is not None:
                panicking.add_metric(values, 1.0 if stats.panicking else 0.0)
            for source, started in sorted(stats.cold_starts.items()):
                cold.add_metric([*values, source], started)
        yield from (desired, count, not_ready, concurrency, queue)
        yield from (stable, panic, target, excess, panicking, cold)


def _revision_labels(stats: RevisionStats) -> list[str]:
    service = stats.service
    return [stats.namespace, service, stats.configuration or service, stats.revision]


class BrokerCollector(Collector):
    """Delivery backlog per trigger and the log head."""

    def __init__(self, source: BrokerStatsSource) -> None:
        self.source = source

    def describe(self) -> list[Metric]:
        """No samples at registration time."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Pending and in-progress deliveries per trigger."""
        stats = self.source.broker_stats()
        labels = (names.NAMESPACE, names.BROKER, names.TRIGGER)
        pending = _gauge(names.TRIGGER_PENDING, "Events waiting for delivery.", labels)
        busy = _gauge(names.TRIGGER_IN_PROGRESS, "Deliveries on the wire or retrying.", labels)
        for trigger in stats.triggers:
            values = [trigger.namespace, trigger.broker, trigger.trigger]
            pending.add_metric(values, trigger.pending)
            busy.add_metric(values, trigger.in_progress)
        head = GaugeMetricFamily(names.BROKER_LOG_HEAD, "Sequence number of the newest event.")
        head.add_metric([], stats.log_head)
        yield from (pending, busy, head)


class BackupCollector(Collector):
    """Last successful backup per schedule, as Velero exports it, and its age."""

    def __init__(self, source: BackupStatsSource, clock: Callable[[], float]) -> None:
        self.source = source
        self.clock = clock

    def describe(self) -> list[Metric]:
        """No samples at registration time."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Timestamp and age per schedule."""
        labels = (names.SCHEDULE,)
        last = _gauge(names.BACKUP_LAST_SUCCESS, "Unix time of the last good backup.", labels)
        age = _gauge(names.BACKUP_AGE, "Seconds since the last good backup.", labels)
        now = self.clock()
        for backup in self.source.backup_stats():
            last.add_metric([backup.schedule], backup.last_successful)
            age.add_metric([backup.schedule], max(0.0, now - backup.last_successful))
        yield from (last, age)


class EdgeCollector(Collector):
    """Requests the edge refused (401, 403, 429)."""

    def __init__(self, source: EdgeStatsSource) -> None:
        self.source = source

    def describe(self) -> list[Metric]:
        """No samples at registration time."""
        return []

    def collect(self) -> Iterator[Metric]:
        """One counter sample per status."""
        family = CounterMetricFamily(
            names.EDGE_REJECTED, "Requests refused at the edge.", labels=[names.STATUS_CODE]
        )
        for status, count in sorted(self.source.rejected.items()):
            family.add_metric([str(status)], count)
        yield family
