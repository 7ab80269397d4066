"""Webhook defaults Knative persists on create and update (pure, on copies)."""

from __future__ import annotations

from typing import Any

from bulut.manifests.feed import Resource

from .patching import clone

DEFAULT_TIMEOUT_SECONDS = 300
DEFAULT_CONTAINER_NAME = "user-container"
DEFAULT_BROKER_CLASS = "MTChannelBasedBroker"
BROKER_CLASS_ANNOTATION = "eventing.knative.dev/broker.class"
BROKER_LABEL = "eventing.knative.dev/broker"
DEFAULT_SCHEDULE = "* * * * *"
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


def with_defaults(resource: Resource) -> Resource:
    """A copy of ``resource`` with Knative's defaults filled in for its kind."""
    result = clone(resource)
    result.setdefault("metadata", {}).setdefault("namespace", "default")
    kind = result.get("kind")
    if kind == "Service":
        spec = result.setdefault("spec", {})
        default_revision_spec(spec.setdefault("template", {}).setdefault("spec", {}))
        if not spec.get("traffic"):
            spec["traffic"] = [{"percent": 100, "latestRevision": True}]
        default_traffic(spec["traffic"])
    elif kind == "Configuration":
        template = result.setdefault("spec", {}).setdefault("template", {})
        default_revision_spec(template.setdefault("spec", {}))
    elif kind == "Revision":
        default_revision_spec(result.setdefault("spec", {}))
    elif kind == "Route":
        default_traffic(result.setdefault("spec", {}).setdefault("traffic", []))
    elif kind == "Broker":
        _default_broker(result)
    elif kind == "Trigger":
        _default_trigger(result)
    elif kind == "PingSource":
        result.setdefault("spec", {}).setdefault("schedule", DEFAULT_SCHEDULE)
    return result


def default_revision_spec(spec: dict[str, Any]) -> None:
    """containerConcurrency 0, timeoutSeconds 300, container name, readiness probe."""
    spec.setdefault("containerConcurrency", 0)
    if not spec.get("timeoutSeconds"):
        spec["timeoutSeconds"] = DEFAULT_TIMEOUT_SECONDS
    spec.setdefault("enableServiceLinks", False)
    containers = spec.get("containers") or []
    for index, container in enumerate(containers):
        if not isinstance(container, dict):
            continue
        if not container.get("name"):
            suffix = "" if len(containers) == 1 else f"-{index}"
            container["name"] = f"{DEFAULT_CONTAINER_NAME}{suffix}"
        if container.get("ports") or len(containers) == 1:
            probe = container.setdefault("readinessProbe", {"tcpSocket": {"port": 0}})
            probe.setdefault("successThreshold", 1)


def default_traffic(traffic: list[dict[str, Any]]) -> None:
    """Per target: latestRevision = (revisionName unset); percent stays as given."""
    for target in traffic:
        if isinstance(target, dict) and "latestRevision" not in target:
            target["latestRevision"] = not target.get("revisionName")


def _default_broker(broker: Resource) -> None:
    annotations = broker["metadata"].setdefault("annotations", {})
    annotations.setdefault(BROKER_CLASS_ANNOTATION, DEFAULT_BROKER_CLASS)
    spec = broker.setdefault("spec", {})
    if annotations[BROKER_CLASS_ANNOTATION] == DEFAULT_BROKER_CLASS:
        spec.setdefault("config", dict(DEFAULT_BROKER_CONFIG))
    if not spec.get("delivery"):
        spec["delivery"] = dict(DEFAULT_BROKER_DELIVERY)


def _default_trigger(trigger: Resource) -> None:
    spec = trigger.setdefault("spec", {})
    if spec.get("broker"):
        trigger["metadata"].setdefault("labels", {})[BROKER_LABEL] = spec["broker"]
    if not spec.get("filters"):
        spec.setdefault("filter", {})
