"""eventing.knative.dev/v1 (Broker, Trigger): defaults, webhook rules, update rules (§3.1–3.3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulut.events.filters import compile_trigger_filter

from .duck import check_destination, validate_delivery
from .meta import validate_metadata
from .paths import fail, mapping_at

DEFAULT_BROKER_CLASS = "MTChannelBasedBroker"
BROKER_CLASS_ANNOTATION = "eventing.knative.dev/broker.class"
BROKER_LABEL = "eventing.knative.dev/broker"
DEFAULT_BROKER_CONFIG: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "name": "config-br-default-channel",
    "namespace": "knative-eventing",
}
DEFAULT_BROKER_DELIVERY: dict[str, Any] = {
    "retry": 10,
    "backoffPolicy": "exponential",
    "backoffDelay": "PT0.2S",
}
DEFAULT_TRIGGER_BROKER = "default"


def validate_broker(resource: Mapping[str, Any]) -> None:
    """A Broker: metadata, optional config reference, delivery."""
    validate_metadata(resource, dns1035=False)
    spec = mapping_at(resource.get("spec"), "spec")
    validate_delivery(spec.get("delivery"), "spec.delivery")


def validate_trigger(resource: Mapping[str, Any]) -> None:
    """A Trigger: broker, subscriber, delivery, and filters compiled by bulut.events (CESQL
    syntax errors name the position)."""
    validate_metadata(resource, dns1035=False)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    if not spec.get("broker") and not spec.get("brokerRef"):
        fail("missing field(s)", "spec.broker")
    filter_spec = mapping_at(spec.get("filter"), "spec.filter")
    attributes = filter_spec.get("attributes")
    compile_trigger_filter(attributes, spec.get("filters"), path="spec")
    check_destination(spec.get("subscriber"), "spec.subscriber")
    validate_delivery(spec.get("delivery"), "spec.delivery")


def default_broker(broker: dict[str, Any]) -> dict[str, Any]:
    """The broker class annotation, the default channel config and delivery."""
    annotations = broker.setdefault("metadata", {}).setdefault("annotations", {})
    annotations.setdefault(BROKER_CLASS_ANNOTATION, DEFAULT_BROKER_CLASS)
    spec = broker.setdefault("spec", {})
    if annotations[BROKER_CLASS_ANNOTATION] == DEFAULT_BROKER_CLASS:
        spec.setdefault("config", dict(DEFAULT_BROKER_CONFIG))
    if not spec.get("delivery"):
        spec["delivery"] = dict(DEFAULT_BROKER_DELIVERY)
    return broker


def default_trigger(trigger: dict[str, Any]) -> dict[str, Any]:
    """The broker label, and an empty ``filter`` when no ``filters`` are given."""
    spec = trigger.setdefault("spec", {})
    if spec.get("broker"):
        trigger.setdefault("metadata", {}).setdefault("labels", {})[BROKER_LABEL] = spec["broker"]
    if not spec.get("filters"):
        spec.setdefault("filter", {})
    return trigger


def check_trigger_update(existing: Mapping[str, Any], desired: Mapping[str, Any]) -> None:
    """A Trigger's ``spec.broker`` is immutable."""
    old_spec, new_spec = existing.get("spec") or {}, desired.get("spec") or {}
    if old_spec.get("broker") != new_spec.get("broker"):
        fail("Immutable fields changed (-old +new)", "spec.broker")


def trigger_broker(trigger: Mapping[str, Any]) -> str:
    """The broker a Trigger subscribes to (``default`` when unset)."""
    return str((trigger.get("spec") or {}).get("broker") or DEFAULT_TRIGGER_BROKER)
