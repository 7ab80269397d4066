"""Platform metrics: Knative names, recorders, scrape-time collectors, eventing records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, generate_latest

from bulut.observability import names
from bulut.observability.metrics import MAX_REMEMBERED_EVENTS, PlatformMetrics
from bulut.observability.stats import (
    BackupStats,
    BrokerStats,
    LastBackups,
    RevisionStats,
    TriggerStats,
)


def sample(metrics: PlatformMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


REV = {
    names.NAMESPACE: "shop",
    names.SERVICE: "orders",
    names.CONFIGURATION: "orders",
    names.REVISION: "orders-00001",
}


def test_requests_are_recorded_per_revision_and_status_under_knatives_name() -> None:
    metrics = PlatformMetrics()
    metrics.request_finished("shop", "orders", "orders-00001", 200, 0.02)
    metrics.request_finished("shop", "orders", "orders-00001", 200, 0.2)
    metrics.request_finished("shop", "orders", "orders-00001", 503, 1.0)
    ok = {**REV, names.STATUS_CODE: "200"}
    assert sample(metrics, "kn_serving_invocation_duration_seconds_count", **ok) == 2
    assert sample(metrics, "kn_serving_invocation_duration_seconds_bucket", **ok, le="0.025") == 1
    assert metrics.request_counts() == {("shop", "orders-00001"): 3}


def test_each_platform_has_its_own_registry() -> None:
    first, second = PlatformMetrics(), PlatformMetrics(CollectorRegistry())
    first.request_finished("a", "b", "b-1", 200, 0.1)
    assert second.request_counts() == {}


class Revisions:
    def __init__(self, stats: list[RevisionStats]) -> None:
        self.stats = stats

    def revision_stats(self) -> Iterable[RevisionStats]:
        return self.stats


class Brokers:
    def broker_stats(self) -> BrokerStats:
        return BrokerStats(
            accepted=5, log_head=9, triggers=(TriggerStats("shop", "audit", "default", 3, 1),)
        )


class Backups:
    def backup_stats(self) -> Iterable[BackupStats]:
        return [BackupStats("nightly", 1000.0)]


class Edge:
    @property
    def rejected(self) -> Mapping[int, int]:
        return {401: 2, 429: 1}


def test_scaling_backlog_backup_and_edge_facts_are_read_at_scrape_time() -> None:
    revisions = Revisions([])
    metrics = PlatformMetrics(clock=lambda: 1600.0)
    metrics.watch(revisions=revisions, brokers=Brokers(), backups=Backups(), edge=Edge())
    assert sample(metrics, "kn_revision_pods_desired", **REV) is None
    revisions.stats = [
        RevisionStats(
            "shop", "orders-00001", "orders", "orders", desired=3, actual=2, ready=1,
            in_flight=4, queued=7, cold_starts={"fork": 2, "spawn": 1},
            stable_concurrency=1.5, panicking=False,
        )
    ]  # fmt: skip
    assert sample(metrics, "kn_revision_pods_desired", **REV) == 3
    assert sample(metrics, "kn_revision_pods_count", **REV) == 2
    assert sample(metrics, "kn_revision_pods_not_ready_count", **REV) == 1
    assert sample(metrics, "kn_revision_request_concurrency", **REV) == 4
    assert sample(metrics, "kn_serving_queue_depth", **REV) == 7
    assert sample(metrics, "kn_revision_concurrency_stable", **REV) == 1.5
    assert sample(metrics, "kn_revision_concurrency_panic", **REV) is None
    assert sample(metrics, "bulut_revision_panic_mode", **REV) == 0
    assert sample(metrics, "bulut_revision_cold_starts_total", **REV, cold_start_source="fork") == 2
    trigger = {names.NAMESPACE: "shop", names.BROKER: "default", names.TRIGGER: "audit"}
    assert sample(metrics, "bulut_trigger_pending_events", **trigger) == 3
    assert sample(metrics, "bulut_broker_log_head") == 9
    assert sample(metrics, "velero_backup_last_successful_timestamp", schedule="nightly") == 1000
    assert sample(metrics, "bulut_backup_age_seconds", schedule="nightly") == 600
    assert (
        sample(metrics, "bulut_edge_rejected_requests_total", http_response_status_code="429") == 1
    )
    assert b"kn_revision_pods_desired" in generate_latest(metrics.registry)


def test_eventing_records_become_ingress_delivery_retry_and_dead_letter_counts() -> None:
    now = [100.0]
    metrics = PlatformMetrics(clock=lambda: now[0])
    observe = metrics.observe_eventing
    observe({"kind": "event", "seq": 1, "id": "e", "type": "order.created",
             "namespace": "shop", "broker": "default", "received": 100.0})  # fmt: skip
    observe({"kind": "attempt", "seq": 1, "trigger": "shop/pay", "attempt": 1, "code": 500})
    observe({"kind": "attempt", "seq": 1, "trigger": "shop/pay", "attempt": 2, "code": 500})
    now[0] = 100.5
    observe(
        {
            "kind": "delivery",
            "seq": 1,
            "trigger": "shop/pay",
            "outcome": "dead-lettered",
            "code": 500,
        }
    )
    observe(
        {
            "kind": "delivery",
            "seq": 99,
            "trigger": "shop/audit",
            "outcome": "delivered",
            "code": 200,
        }
    )
    ingress = {names.NAMESPACE: "shop", names.BROKER: "default",
               names.EVENT_TYPE: "order.created", names.STATUS_CODE: "202"}  # fmt: skip
    assert sample(metrics, "bulut_broker_ingress_events_total", **ingress) == 1
    pay = {names.NAMESPACE: "shop", names.TRIGGER: "pay"}
    assert sample(metrics, "bulut_trigger_retries_total", **pay) == 1
    assert sample(metrics, "bulut_trigger_dead_letters_total", **pay) == 1
    dead = {**pay, names.OUTCOME: "dead-lettered"}
    assert (
        sample(metrics, "bulut_trigger_deliveries_total", **dead, http_response_status_code="500")
        == 1
    )
    assert sample(metrics, "bulut_trigger_delivery_duration_seconds_sum", **dead) == 0.5
    audit = {names.NAMESPACE: "shop", names.TRIGGER: "audit", names.OUTCOME: "delivered"}
    assert sample(metrics, "bulut_trigger_delivery_duration_seconds_count", **audit) is None


def test_delivery_times_are_kept_for_the_newest_events_only() -> None:
    now = [0.0]
    metrics = PlatformMetrics(clock=lambda: now[0])
    total = MAX_REMEMBERED_EVENTS + 5
    for seq in range(total):
        metrics.observe_eventing({"kind": "event", "seq": seq, "type": "t", "namespace": "shop",
                                  "broker": "default", "received": float(seq)})  # fmt: skip
    now[0] = float(total)
    for seq in (4, 5, total - 1):  # the five oldest are forgotten, the newest are timed
        metrics.observe_eventing(
            {"kind": "delivery", "seq": seq, "trigger": "shop/audit", "outcome": "delivered"}
        )
    timed = {names.NAMESPACE: "shop", names.TRIGGER: "audit", names.OUTCOME: "delivered"}
    assert sample(metrics, "bulut_trigger_delivery_duration_seconds_count", **timed) == 2
    assert (
        sample(metrics, "bulut_trigger_delivery_duration_seconds_sum", **timed) == (total - 5) + 1
    )
    ingress = {names.NAMESPACE: "shop", names.BROKER: "default", names.EVENT_TYPE: "t",
               names.STATUS_CODE: "202"}  # fmt: skip
    assert sample(metrics, "bulut_broker_ingress_events_total", **ingress) == total


def test_cold_starts_are_timed_by_source() -> None:
    metrics = PlatformMetrics()
    metrics.cold_start_finished("shop", "orders", "orders-00001", "fork", 0.004)
    labels = {**REV, names.COLD_START_SOURCE: "fork"}
    assert sample(metrics, "bulut_revision_cold_start_duration_seconds_count", **labels) == 1


def test_each_send_to_a_subscriber_is_timed_under_knatives_dispatch_metric() -> None:
    metrics = PlatformMetrics()
    metrics.dispatch_finished("shop", "default", "pay", 503, 0.2)
    metrics.dispatch_finished("shop", "default", "pay", 503, 0.1)
    labels = {names.NAMESPACE: "shop", names.BROKER: "default", names.TRIGGER: "pay",
              names.STATUS_CODE: "503"}  # fmt: skip
    assert sample(metrics, "kn_eventing_dispatch_duration_seconds_count", **labels) == 2


def test_backups_recorded_as_they_finish_show_their_age() -> None:
    backups = LastBackups()
    metrics = PlatformMetrics(clock=lambda: 500.0)
    metrics.watch(backups=backups)
    assert sample(metrics, "bulut_backup_age_seconds", schedule="local") is None
    backups.record("local", 400.0)
    backups.record("local", 300.0)  # an older one finishing late does not make it younger
    assert sample(metrics, "bulut_backup_age_seconds", schedule="local") == 100
