"""Metric and label names, after Knative's OpenTelemetry-era metrics (Prometheus form).

Knative ≥ 1.19 exports OTel instruments (``kn.revision.pods.desired``); Prometheus shows
them with underscores and a unit suffix (``kn_revision_pods_desired``,
``kn_serving_invocation_duration_seconds``), and their attributes as labels
(``k8s.namespace.name`` → ``k8s_namespace_name``). Where Knative has no metric the name
starts with ``bulut_``. docs/observability.md has the full mapping table.
"""

from __future__ import annotations

# -- labels (OTel attribute names with dots as underscores) --------------------------
NAMESPACE = "k8s_namespace_name"
SERVICE = "kn_service_name"
CONFIGURATION = "kn_configuration_name"
REVISION = "kn_revision_name"
STATUS_CODE = "http_response_status_code"
STATUS_CLASS = "http_response_status_class"  # 1xx .. 5xx, other
BROKER = "kn_broker_name"
TRIGGER = "kn_trigger_name"
EVENT_TYPE = "cloudevents_event_type"
OUTCOME = "delivery_outcome"
COLD_START_SOURCE = "cold_start_source"
SCHEDULE = "schedule"

REVISION_LABELS = (NAMESPACE, SERVICE, CONFIGURATION, REVISION)

# -- serving: request path (recorded) -------------------------------------------------
INVOCATION_DURATION = "kn_serving_invocation_duration_seconds"
COLD_START_DURATION = "bulut_revision_cold_start_duration_seconds"
INGRESS_RESPONSES = "bulut_ingress_responses"  # counter: HAProxy's warm path (ADR 0030)

# -- serving: scaling and queueing (collected at scrape time) ---------------------------
PODS_DESIRED = "kn_revision_pods_desired"
PODS_COUNT = "kn_revision_pods_count"
PODS_NOT_READY = "kn_revision_pods_not_ready_count"
REQUEST_CONCURRENCY = "kn_revision_request_concurrency"
QUEUE_DEPTH = "kn_serving_queue_depth"
CONCURRENCY_STABLE = "kn_revision_concurrency_stable"
CONCURRENCY_PANIC = "kn_revision_concurrency_panic"
CONCURRENCY_TARGET = "kn_revision_concurrency_target"
CAPACITY_EXCESS = "kn_revision_capacity_excess"
PANIC_MODE = "bulut_revision_panic_mode"
COLD_STARTS = "bulut_revision_cold_starts"  # counter: exposed with _total

# -- eventing: one send to a subscriber or sink (recorded on the delivery path) -----------
DISPATCH_DURATION = "kn_eventing_dispatch_duration_seconds"

# -- eventing (recorded from the eventing observer) --------------------------------------
BROKER_EVENTS = "bulut_broker_ingress_events"  # counter
TRIGGER_DELIVERIES = "bulut_trigger_deliveries"  # counter
DELIVERY_DURATION = "bulut_trigger_delivery_duration_seconds"
RETRIES = "bulut_trigger_retries"  # counter
DEAD_LETTERS = "bulut_trigger_dead_letters"  # counter

# -- eventing (collected) -------------------------------------------------------------
TRIGGER_PENDING = "bulut_trigger_pending_events"
TRIGGER_IN_PROGRESS = "bulut_trigger_in_progress_events"
BROKER_LOG_HEAD = "bulut_broker_log_head"

# -- disaster recovery and edge (collected) ------------------------------------------------
BACKUP_LAST_SUCCESS = "velero_backup_last_successful_timestamp"
BACKUP_AGE = "bulut_backup_age_seconds"
EDGE_REJECTED = "bulut_edge_rejected_requests"  # counter
