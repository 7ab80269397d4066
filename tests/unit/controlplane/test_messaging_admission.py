"""Admission of messaging.knative.dev, flows.knative.dev and EventType: the rules rows of
bulut.apis.rules (defaults, validation, update rules) as the control plane applies them."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.apis.rules.messaging import ChannelDefaults
from bulut.controlplane.admission import admit
from bulut.errors import InvalidResourceError

from .factories import addressing, resource

MESSAGING = "messaging.knative.dev/v1"
FLOWS = "flows.knative.dev/v1"
KSVC = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "orders"}
KAFKA = {"apiVersion": "messaging.knative.dev/v1beta1", "kind": "KafkaChannel"}


def admitted(document: dict[str, Any], existing: dict[str, Any] | None = None, **kw: Any) -> Any:
    return admit(document, existing, addressing=addressing(), **kw).resource


def refused(document: dict[str, Any], existing: dict[str, Any] | None = None) -> str:
    with pytest.raises(InvalidResourceError) as raised:
        admit(document, existing, addressing=addressing())
    return str(raised.value.field)


def subscription(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": {"apiVersion": MESSAGING, "kind": "Channel", "name": "orders"},
        "subscriber": {"ref": KSVC},
    }
    body.update(spec)
    return resource(MESSAGING, "Subscription", "s", {k: v for k, v in body.items() if v})


def test_a_channel_without_template_gets_the_cluster_default_in_memory_channel() -> None:
    channel = admitted(resource(MESSAGING, "Channel", "orders", {}))
    assert channel["spec"]["channelTemplate"] == {
        "apiVersion": MESSAGING,
        "kind": "InMemoryChannel",
    }
    assert channel["metadata"]["annotations"]["messaging.knative.dev/subscribable"] == "v1"


def test_the_namespace_default_of_default_ch_webhook_wins_over_the_cluster_default() -> None:
    config = {
        "clusterDefault": {"apiVersion": MESSAGING, "kind": "InMemoryChannel"},
        "namespaceDefaults": {"default": {**KAFKA, "spec": {"numPartitions": 2}}},
    }
    defaults = ChannelDefaults.from_config(config)
    channel = admitted(resource(MESSAGING, "Channel", "orders", {}), channels=defaults)
    assert channel["spec"]["channelTemplate"] == {**KAFKA, "spec": {"numPartitions": 2}}
    assert defaults.template_for("other")["kind"] == "InMemoryChannel"


def test_a_channel_template_needs_kind_and_api_version() -> None:
    template = {"channelTemplate": {"apiVersion": MESSAGING}}
    assert refused(resource(MESSAGING, "Channel", "orders", template)) == (
        "spec.channelTemplate.kind"
    )


def test_a_channel_takes_no_subscribers_of_its_own() -> None:
    spec = {"subscribers": [{"uid": "1", "subscriberUri": "http://x"}]}
    assert refused(resource(MESSAGING, "Channel", "o", spec)) == "spec.subscribable.subscribers"


def test_a_channel_spec_is_immutable_except_subscribers() -> None:
    old = admitted(resource(MESSAGING, "Channel", "orders", {}))
    changed = resource(MESSAGING, "Channel", "orders", {"channelTemplate": KAFKA})
    assert refused(changed, old) == "spec.channelTemplate"


def test_a_channel_delivery_is_checked_as_a_triggers() -> None:
    spec = {"delivery": {"backoffPolicy": "sometimes"}}
    assert refused(resource(MESSAGING, "Channel", "o", spec)) == "spec.delivery.backoffPolicy"


def test_an_imc_subscriber_needs_a_subscriber_or_reply_uri() -> None:
    spec = {"subscribers": [{"uid": "1"}]}
    field = refused(resource(MESSAGING, "InMemoryChannel", "o", spec))
    assert field == "spec.subscribers[0].replyUri, spec.subscribers[0].subscriberUri"


def test_an_imc_scope_annotation_is_cluster_or_namespace() -> None:
    imc = resource(MESSAGING, "InMemoryChannel", "o", {})
    imc["metadata"]["annotations"] = {"eventing.knative.dev/scope": "galaxy"}
    assert refused(imc) == "metadata.annotations.eventing.knative.dev/scope"


def test_a_subscription_needs_its_channel_and_subscriber() -> None:
    assert refused(subscription(channel=None)) == "spec.channel"
    assert refused(subscription(subscriber=None)) == "spec.subscriber"
    no_name = {"apiVersion": MESSAGING, "kind": "Channel"}
    assert refused(subscription(channel=no_name)) == "spec.channel.name"


def test_a_subscription_destination_in_another_namespace_is_mismatched() -> None:
    elsewhere = {"ref": {**KSVC, "namespace": "other"}}
    assert refused(subscription(reply=elsewhere)) == "spec.reply.ref.namespace"
    relative = {"uri": "/relative"}
    assert refused(subscription(subscriber=relative)) == "spec.subscriber.uri"


def test_a_subscription_delivery_is_checked_and_its_refs_get_the_namespace() -> None:
    assert refused(subscription(delivery={"retry": -1})) == "spec.delivery.retry"
    dls = {"deadLetterSink": {"ref": KSVC}}
    stored = admitted(subscription(delivery=dls, reply={"ref": KSVC}))
    assert stored["spec"]["subscriber"]["ref"]["namespace"] == "default"
    assert stored["spec"]["reply"]["ref"]["namespace"] == "default"
    assert stored["spec"]["delivery"]["deadLetterSink"]["ref"]["namespace"] == "default"


def test_a_subscription_channel_is_immutable() -> None:
    old = admitted(subscription())
    moved = subscription(channel={"apiVersion": MESSAGING, "kind": "Channel", "name": "other"})
    assert refused(moved, old) == "spec.channel"
    # the subscriber may change
    admitted(subscription(subscriber={"uri": "http://example.com"}), old)


def test_a_sequence_needs_steps_and_gets_a_template() -> None:
    assert refused(resource(FLOWS, "Sequence", "s", {"steps": []})) == "spec.steps"
    bad_step = {"steps": [{"uri": "http://a"}, {}]}
    assert (
        refused(resource(FLOWS, "Sequence", "s", bad_step))
        == "spec.steps[1].ref, spec.steps[1].uri"
    )
    bad_delivery = {"steps": [{"uri": "http://a", "delivery": {"retry": "x"}}]}
    assert refused(resource(FLOWS, "Sequence", "s", bad_delivery)) == "spec.steps[0].delivery.retry"
    stored = admitted(resource(FLOWS, "Sequence", "s", {"steps": [{"ref": KSVC}]}))
    assert stored["spec"]["channelTemplate"]["kind"] == "InMemoryChannel"
    assert stored["spec"]["steps"][0]["ref"]["namespace"] == "default"


def test_a_parallel_needs_branches_with_subscribers() -> None:
    assert refused(resource(FLOWS, "Parallel", "p", {"branches": []})) == "spec.branches"
    no_subscriber = {"branches": [{"filter": {"uri": "http://f"}}]}
    assert refused(resource(FLOWS, "Parallel", "p", no_subscriber)) == "spec.branches[0].subscriber"
    bad_filter = {"branches": [{"subscriber": {"uri": "http://s"}, "filter": {"uri": "f"}}]}
    assert refused(resource(FLOWS, "Parallel", "p", bad_filter)) == "spec.branches[0].filter.uri"


def eventtype(**spec: Any) -> dict[str, Any]:
    attributes = [{"name": n} for n in ("type", "source", "specversion", "id")]
    return resource(
        "eventing.knative.dev/v1beta3", "EventType", "et", {"attributes": attributes, **spec}
    )


def test_an_eventtype_lists_the_required_attributes_and_a_local_reference() -> None:
    missing = eventtype(attributes=[{"name": "type", "value": "order.created"}])
    assert refused(missing) == "spec.attributes"
    assert refused(eventtype(attributes=[{"value": "x"}])) == "spec.attributes[0].name"
    reference = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}
    stored = admitted(eventtype(reference=reference))
    assert stored["spec"]["reference"]["namespace"] == "default"
    elsewhere = eventtype(reference={**reference, "namespace": "other"})
    assert refused(elsewhere) == "spec.reference.namespace"


def test_a_kafka_channel_gets_knative_kafkas_topic_defaults_and_positive_sizes() -> None:
    kafka = resource("messaging.knative.dev/v1beta1", "KafkaChannel", "orders", {})
    spec = admitted(kafka)["spec"]
    assert spec == {"numPartitions": 1, "replicationFactor": 1, "retentionDuration": "PT168H"}
    for field, value in (("numPartitions", 0), ("replicationFactor", True)):
        bad = resource("messaging.knative.dev/v1beta1", "KafkaChannel", "o", {field: value})
        assert refused(bad) == f"spec.{field}"
    late = resource(
        "messaging.knative.dev/v1beta1", "KafkaChannel", "o", {"retentionDuration": "7d"}
    )
    assert refused(late) == "spec.retentionDuration"
