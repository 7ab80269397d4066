"""Platform metrics: hot-path recorders and scrape-time collectors in one registry.

Build one :class:`PlatformMetrics` per platform (no global registry). Request paths call
the cheap recorders (:meth:`PlatformMetrics.request_finished`, ...); scaling, backlog and
backup facts are read at scrape time from the sources given to :meth:`PlatformMetrics.watch`
(see :mod:`.stats`), so serving and eventing need no metrics code on their hot paths.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from . import names
from .collectors import BackupCollector, BrokerCollector, EdgeCollector, RevisionCollector
from .stats import BackupStatsSource, BrokerStatsSource, EdgeStatsSource, RevisionStatsSource

# Knative's request-latency buckets, in seconds (queue-proxy's ms buckets / 1000).
LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
)  # fmt: skip
COLD_START_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MAX_REMEMBERED_EVENTS = 10_000
MAX_CHILDREN = 10_000  # label sets remembered for the hot path (beyond: looked up each time)


class PlatformMetrics:
    """The metrics of one platform, registered in ``registry``."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._clock = clock
        reg = self.registry
        self.invocation_duration = Histogram(
            names.INVOCATION_DURATION,
            "Time to answer a request, per revision and status (Knative kn.serving.invocation"
            ".duration).",
            [*names.REVISION_LABELS, names.STATUS_CODE],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.ingress_responses_total = Counter(
            names.INGRESS_RESPONSES,
            "Responses HAProxy's warm path gave per revision and status class (its show stat"
            " counters; its latencies are observed for recorded traces only, ADR 0030).",
            [*names.REVISION_LABELS, names.STATUS_CLASS],
            registry=reg,
        )
        self.cold_start_duration = Histogram(
            names.COLD_START_DURATION,
            "From starting an instance (fork of the zygote, or a fresh spawn) to ready.",
            [*names.REVISION_LABELS, names.COLD_START_SOURCE],
            buckets=COLD_START_BUCKETS,
            registry=reg,
        )
        self.dispatch_duration = Histogram(
            names.DISPATCH_DURATION,
            "One send of an event to a subscriber or dead-letter sink (Knative"
            " kn.eventing.dispatch.duration).",
            [names.NAMESPACE, names.BROKER, names.TRIGGER, names.STATUS_CODE],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.broker_events = Counter(
            names.BROKER_EVENTS,
            "Events answered by a broker's ingress (Knative's OpenCensus event_count).",
            [names.NAMESPACE, names.BROKER, names.EVENT_TYPE, names.STATUS_CODE],
            registry=reg,
        )
        self.trigger_deliveries = Counter(
            names.TRIGGER_DELIVERIES,
            "Finished deliveries per trigger and outcome (delivered, replied, dead-lettered,"
            " failed).",
            [names.NAMESPACE, names.TRIGGER, names.OUTCOME, names.STATUS_CODE],
            registry=reg,
        )
        self.delivery_duration = Histogram(
            names.DELIVERY_DURATION,
            "From broker ingress to a delivery's outcome, retries included.",
            [names.NAMESPACE, names.TRIGGER, names.OUTCOME],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.retries = Counter(
            names.RETRIES,
            "Delivery attempts after the first.",
            [names.NAMESPACE, names.TRIGGER],
            registry=reg,
        )
        self.dead_letters = Counter(
            names.DEAD_LETTERS,
            "Deliveries that ended at the dead-letter sink.",
            [names.NAMESPACE, names.TRIGGER],
            registry=reg,
        )
        self._children: dict[tuple[str, ...], Any] = {}
        # oldest first; an OrderedDict drops its oldest in O(1) (a dict's next(iter()) walks
        # the deleted slots at its front: ~40 µs per event once 10,000 were remembered)
        self._received: OrderedDict[int, float] = OrderedDict()

    # -- scrape-time sources ------------------------------------------------------
    def watch(
        self,
        *,
        revisions: RevisionStatsSource | None = None,
        brokers: BrokerStatsSource | None = None,
        backups: BackupStatsSource | None = None,
        edge: EdgeStatsSource | None = None,
    ) -> None:
        """Collect from these sources at every scrape (call once per source)."""
        if revisions is not None:
            self.registry.register(RevisionCollector(revisions))
        if brokers is not None:
            self.registry.register(BrokerCollector(brokers))
        if backups is not None:
            self.registry.register(BackupCollector(backups, self._clock))
        if edge is not None:
            self.registry.register(EdgeCollector(edge))

    # -- hot-path recorders ----------------------------------------------------------
    def request_finished(
        self,
        namespace: str,
        service: str,
        revision: str,
        status: int,
        seconds: float,
        configuration: str = "",
    ) -> None:
        """One request answered by a revision (any status, activator errors included)."""
        self._child(
            self.invocation_duration,
            "req",
            namespace,
            service,
            configuration or service,
            revision,
            str(status),
        ).observe(seconds)

    def ingress_responses(
        self,
        namespace: str,
        service: str,
        revision: str,
        status_class: str,
        count: int,
        configuration: str = "",
    ) -> None:
        """``count`` more responses of ``status_class`` (``2xx``...) from HAProxy's warm path."""
        self.ingress_responses_total.labels(
            namespace, service, configuration or service, revision, status_class
        ).inc(count)

    def cold_start_finished(
        self, namespace: str, service: str, revision: str, source: str, seconds: float
    ) -> None:
        """An instance became ready ``seconds`` after it was started; ``source`` fork|spawn."""
        self.cold_start_duration.labels(namespace, service, service, revision, source).observe(
            seconds
        )

    def broker_event(self, namespace: str, broker: str, event_type: str, status: int) -> None:
        """The broker ingress answered one event with ``status``."""
        self._child(self.broker_events, "event", namespace, broker, event_type, str(status)).inc()

    def dispatch_finished(
        self, namespace: str, broker: str, trigger: str, status: int, seconds: float
    ) -> None:
        """One send to a subscriber or sink took ``seconds`` and got ``status`` (0: none)."""
        self._child(
            self.dispatch_duration, "dispatch", namespace, broker, trigger, str(status)
        ).observe(seconds)

    def delivery_finished(
        self, trigger: str, outcome: str, code: int, seconds: float | None = None
    ) -> None:
        """A delivery to ``trigger`` ("ns/name") ended with ``outcome`` after ``seconds``."""
        namespace, _, name = trigger.partition("/")
        self._child(self.trigger_deliveries, "delivery", namespace, name, outcome, str(code)).inc()
        if seconds is not None:
            self._child(self.delivery_duration, "delivered", namespace, name, outcome).observe(
                seconds
            )
        if outcome == "dead-lettered":
            self.dead_letters.labels(namespace, name).inc()

    def _child(self, metric: Any, tag: str, *labels: str) -> Any:
        """``metric.labels(*labels)``, remembered (prometheus_client's lookup costs ~5 µs)."""
        key = (tag, *labels)
        child = self._children.get(key)
        if child is None:
            child = metric.labels(*labels)
            if len(self._children) < MAX_CHILDREN:
                self._children[key] = child
        return child

    def observe_eventing(self, record: Mapping[str, Any]) -> None:
        """Eventing's observer records (``event``, ``attempt``, ``delivery``) → metrics.

        Shaped like ``bulut.eventing``'s ``Observer``: chain it with the live tail.
        """
        kind = record.get("kind")
        if kind == "event":
            self.broker_event(
                str(record.get("namespace", "")),
                str(record.get("broker", "")),
                str(record.get("type", "")),
                202,
            )
            seq = record.get("seq")
            if isinstance(seq, int):
                if len(self._received) >= MAX_REMEMBERED_EVENTS:
                    self._received.popitem(last=False)
                self._received[seq] = float(record.get("received") or self._clock())
        elif kind == "attempt":
            if int(record.get("attempt", 1)) > 1:
                namespace, _, name = str(record.get("trigger", "")).partition("/")
                self.retries.labels(namespace, name).inc()
        elif kind == "delivery":
            seq = record.get("seq")
            received = self._received.get(seq) if isinstance(seq, int) else None
            seconds = None if received is None else max(0.0, self._clock() - received)
            self.delivery_finished(
                str(record.get("trigger", "")),
                str(record.get("outcome", "")),
                int(record.get("code") or 0),
                seconds,
            )

    def request_counts(self) -> dict[tuple[str, str], int]:
        """Requests answered so far per (namespace, revision), for the dashboard."""
        counts: dict[tuple[str, str], int] = {}
        for metric in self.invocation_duration.collect():
            for sample in metric.samples:
                if sample.name.endswith("_count"):
                    key = (sample.labels[names.NAMESPACE], sample.labels[names.REVISION])
                    counts[key] = counts.get(key, 0) + int(sample.value)
        return counts
