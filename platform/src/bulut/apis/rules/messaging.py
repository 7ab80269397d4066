"""messaging.knative.dev/v1 webhook rules: InMemoryChannel, Channel, Subscription (pure).

Defaults and validation as knative/eventing's ``pkg/apis/messaging`` writes them
(reference knative-kinds §2-§3). A missing ``channelTemplate`` (Channel, Sequence,
Parallel) comes from ConfigMap ``knative-eventing/default-ch-webhook``, key
``default-ch-config``: the namespace's entry in ``namespaceDefaults`` wins over
``clusterDefault``; without either, an ``InMemoryChannel``. (The control plane reads the
ConfigMap's YAML; these rules take it parsed.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bulut.manifests.durations import iso8601_seconds

from .duck import check_destination, validate_delivery
from .meta import validate_metadata
from .paths import fail, list_at, mapping_at

DEFAULT_CH_CONFIGMAP = ("knative-eventing", "default-ch-webhook")
DEFAULT_CH_KEY = "default-ch-config"
SUBSCRIBABLE_ANNOTATION = "messaging.knative.dev/subscribable"
SCOPE_ANNOTATION = "eventing.knative.dev/scope"
IMC_TEMPLATE: dict[str, Any] = {
    "apiVersion": "messaging.knative.dev/v1",
    "kind": "InMemoryChannel",
}


@dataclass(frozen=True)
class ChannelDefaults:
    """The ``default-ch-config`` of ``default-ch-webhook``: cluster and namespace templates."""

    cluster: Mapping[str, Any] = field(default_factory=lambda: dict(IMC_TEMPLATE))
    namespaces: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def template_for(self, namespace: str) -> dict[str, Any]:
        """The channel template a resource in ``namespace`` gets (a copy)."""
        chosen = self.namespaces.get(namespace) or self.cluster
        template = {key: chosen[key] for key in ("apiVersion", "kind") if chosen.get(key)}
        if chosen.get("spec"):
            template["spec"] = dict(chosen["spec"])
        return template

    @classmethod
    def from_config(cls, config: Any) -> ChannelDefaults:
        """From the parsed ``default-ch-config`` (Knative's shipped default when it is not
        a mapping of templates)."""
        if not isinstance(config, Mapping):
            return cls()
        cluster = config.get("clusterDefault")
        namespaces = config.get("namespaceDefaults") or {}
        return cls(
            cluster=dict(cluster) if isinstance(cluster, Mapping) else dict(IMC_TEMPLATE),
            namespaces={
                str(ns): dict(t)
                for ns, t in (namespaces.items() if isinstance(namespaces, Mapping) else ())
                if isinstance(t, Mapping)
            },
        )


def default_channel_template(
    spec: dict[str, Any], namespace: str, defaults: ChannelDefaults
) -> None:
    """Fill ``spec.channelTemplate`` from the defaults when it is missing."""
    if not spec.get("channelTemplate"):
        spec["channelTemplate"] = defaults.template_for(namespace)


def default_destination_namespace(destination: Any, namespace: str) -> None:
    """Knative's Destination defaulting: a ``ref`` without namespace gets the object's."""
    if isinstance(destination, dict) and isinstance(destination.get("ref"), dict):
        destination["ref"].setdefault("namespace", namespace)


def default_delivery_namespace(delivery: Any, namespace: str) -> None:
    """The dead-letter sink's ``ref`` gets the object's namespace."""
    if isinstance(delivery, dict):
        default_destination_namespace(delivery.get("deadLetterSink"), namespace)


def default_channel(resource: dict[str, Any], defaults: ChannelDefaults) -> dict[str, Any]:
    """Channel: template from ``default-ch-webhook``, the subscribable annotation."""
    namespace = resource["metadata"].setdefault("namespace", "default")
    resource["metadata"].setdefault("annotations", {})[SUBSCRIBABLE_ANNOTATION] = "v1"
    spec = resource.setdefault("spec", {})
    default_channel_template(spec, namespace, defaults)
    default_delivery_namespace(spec.get("delivery"), namespace)
    return resource


def default_inmemorychannel(resource: dict[str, Any]) -> dict[str, Any]:
    """InMemoryChannel: the subscribable annotation, dead-letter ref namespace."""
    namespace = resource["metadata"].setdefault("namespace", "default")
    resource["metadata"].setdefault("annotations", {})[SUBSCRIBABLE_ANNOTATION] = "v1"
    spec = resource.setdefault("spec", {})
    default_delivery_namespace(spec.get("delivery"), namespace)
    return resource


KAFKA_DEFAULTS: dict[str, Any] = {
    "numPartitions": 1,
    "replicationFactor": 1,
    "retentionDuration": "PT168H",
}


def default_kafkachannel(resource: dict[str, Any]) -> dict[str, Any]:
    """KafkaChannel: as an InMemoryChannel, plus the topic defaults of Knative Kafka's
    ``config-kafka-channel`` (1 partition, replication 1, retained 7 days)."""
    default_inmemorychannel(resource)
    spec = resource["spec"]
    for key, value in KAFKA_DEFAULTS.items():
        spec.setdefault(key, value)
    return resource


def default_subscription(resource: dict[str, Any]) -> dict[str, Any]:
    """Subscription: ref namespaces of subscriber, reply and dead-letter sink."""
    namespace = resource["metadata"].setdefault("namespace", "default")
    spec = resource.setdefault("spec", {})
    default_destination_namespace(spec.get("subscriber"), namespace)
    default_destination_namespace(spec.get("reply"), namespace)
    default_delivery_namespace(spec.get("delivery"), namespace)
    return resource


def check_channel_template(value: Any, path: str) -> None:
    """A ChannelTemplateSpec: ``apiVersion`` and ``kind`` required, ``spec`` an object."""
    template = mapping_at(value, path, required=True)
    for key in ("kind", "apiVersion"):
        if not isinstance(template.get(key), str) or not template.get(key):
            fail("missing field(s)", f"{path}.{key}")
    mapping_at(template.get("spec"), f"{path}.spec")


def check_namespaced_destination(value: Any, path: str, namespace: str) -> None:
    """A Destination whose ``ref`` stays in the object's namespace."""
    check_destination(value, path)
    ref = mapping_at(mapping_at(value, path).get("ref"), f"{path}.ref")
    ref_ns = ref.get("namespace")
    if ref_ns and ref_ns != namespace:
        fail(f"mismatched namespaces: {ref_ns} != {namespace}", f"{path}.ref.namespace")


def _namespace(resource: Mapping[str, Any]) -> str:
    return str((resource.get("metadata") or {}).get("namespace") or "default")


def validate_channel(resource: Mapping[str, Any]) -> None:
    """Channel: a channelTemplate, no subscribers of its own, a valid delivery."""
    validate_metadata(resource, dns1035=False)
    spec = mapping_at(resource.get("spec"), "spec")
    check_channel_template(spec.get("channelTemplate"), "spec.channelTemplate")
    if list_at(spec.get("subscribers"), "spec.subscribers"):
        fail(
            "invalid value: subscribers are set by Subscriptions, not by the Channel",
            "spec.subscribable.subscribers",
        )
    validate_delivery(spec.get("delivery"), "spec.delivery")


def check_channel_update(old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Channel: everything in ``spec`` but ``subscribers`` is immutable."""
    old_spec = {k: v for k, v in (old.get("spec") or {}).items() if k != "subscribers"}
    new_spec = {k: v for k, v in (new.get("spec") or {}).items() if k != "subscribers"}
    for key in sorted(set(old_spec) | set(new_spec)):
        if old_spec.get(key) != new_spec.get(key):
            fail("Immutable fields changed (-old +new)", f"spec.{key}")


def validate_inmemorychannel(resource: Mapping[str, Any]) -> None:
    """InMemoryChannel: scope annotation, subscribers with a URI, a valid delivery."""
    validate_metadata(resource, dns1035=False)
    annotations = (resource.get("metadata") or {}).get("annotations") or {}
    scope = annotations.get(SCOPE_ANNOTATION)
    if scope is not None and scope not in {"cluster", "namespace"}:
        fail(f"invalid value: {scope}", f"metadata.annotations.{SCOPE_ANNOTATION}")
    spec = mapping_at(resource.get("spec"), "spec")
    for index, raw in enumerate(list_at(spec.get("subscribers"), "spec.subscribers")):
        path = f"spec.subscribers[{index}]"
        entry = mapping_at(raw, path)
        if not entry.get("subscriberUri") and not entry.get("replyUri"):
            fail("expected at least one, got none", f"{path}.replyUri, {path}.subscriberUri")
        validate_delivery(entry.get("delivery"), f"{path}.delivery")
    validate_delivery(spec.get("delivery"), "spec.delivery")


def validate_kafkachannel(resource: Mapping[str, Any]) -> None:
    """KafkaChannel: an InMemoryChannel's rules, positive partitions and replication, an
    ISO-8601 retention."""
    validate_inmemorychannel(resource)
    spec = resource.get("spec") or {}
    for key in ("numPartitions", "replicationFactor"):
        value = spec.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value <= 0
        ):
            fail(f"expected a positive integer, got {value!r}", f"spec.{key}")
    retention = spec.get("retentionDuration")
    if retention is not None:
        try:
            iso8601_seconds(str(retention), field="spec.retentionDuration")
        except ValueError:
            fail(f"not an ISO-8601 duration: {retention!r}", "spec.retentionDuration")


def validate_subscription(resource: Mapping[str, Any]) -> None:
    """Subscription: channel (required), subscriber (required), reply, delivery."""
    validate_metadata(resource, dns1035=False)
    namespace = _namespace(resource)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    channel = mapping_at(spec.get("channel"), "spec.channel", required=True)
    for key in ("apiVersion", "kind", "name"):
        if not channel.get(key):
            fail("missing field(s)", f"spec.channel.{key}")
    channel_ns = channel.get("namespace")
    if channel_ns and channel_ns != namespace:
        fail(
            "invalid value: a channel in another namespace needs the "
            "cross-namespace-event-links feature, which is disabled",
            "spec.channel.namespace",
        )
    if channel.get("group"):
        fail("invalid value: group needs the kreference-group feature", "spec.channel.group")
    if spec.get("subscriber") is None:
        fail("missing field(s)", "spec.subscriber")
    check_namespaced_destination(spec.get("subscriber"), "spec.subscriber", namespace)
    if spec.get("reply") is not None:
        check_namespaced_destination(spec.get("reply"), "spec.reply", namespace)
    validate_delivery(spec.get("delivery"), "spec.delivery")


def check_subscription_update(old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Subscription: ``spec.channel`` is immutable."""
    if (old.get("spec") or {}).get("channel") != (new.get("spec") or {}).get("channel"):
        fail("Immutable fields changed (-old +new)", "spec.channel")
