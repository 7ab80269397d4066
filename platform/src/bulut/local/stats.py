"""Adapters that let the metrics collectors read the planes at scrape time.

The planes expose plain objects; these turn them into the stats records
`bulut.observability` collects, so no hot path knows about Prometheus.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bulut.eventing import Eventing
from bulut.observability.stats import BrokerStats, RevisionStats, TriggerStats
from bulut.serving import Serving


@dataclass
class ServingStats:
    """Serving's revisions as :class:`RevisionStats`, read at scrape time."""

    serving: Serving

    def revision_stats(self) -> Iterator[RevisionStats]:
        for (namespace, name), runtime in list(self.serving.revisions.items()):
            decision = runtime.autoscaler.last_decision
            yield RevisionStats(
                namespace=namespace,
                revision=name,
                service=runtime.spec.service,
                configuration=runtime.spec.configuration,
                desired=max(runtime.autoscaler.desired_scale, 0),
                actual=runtime.instance_count(),
                ready=runtime.ready_instances(),
                in_flight=sum(i.breaker.in_flight for i in runtime.instances),
                queued=runtime.activator.held + sum(i.breaker.waiting for i in runtime.instances),
                cold_starts=dict(runtime.facts.cold_starts),
                stable_concurrency=decision.stable_average if decision else None,
                panic_concurrency=decision.panic_average if decision else None,
                target_concurrency=runtime.autoscaler.spec.target,
                excess_burst_capacity=decision.excess_burst_capacity if decision else None,
                panicking=decision.panicking if decision else None,
            )


@dataclass
class EventingStats:
    """Eventing's trigger queues as :class:`BrokerStats`, read at scrape time."""

    eventing: Eventing

    def broker_stats(self) -> BrokerStats:
        triggers = []
        for key, queue in list(self.eventing.dispatcher.queues.items()):
            namespace, _, name = key.partition("/")
            triggers.append(
                TriggerStats(
                    namespace=namespace,
                    trigger=name,
                    broker=queue.trigger.broker,
                    pending=len(queue.pending) + len(queue.backlog),
                    in_progress=len(queue.in_progress),
                )
            )
        return BrokerStats(
            accepted=self.eventing.ingress.accepted,
            log_head=self.eventing.log.head,
            triggers=tuple(triggers),
        )
