"""Channel, InMemoryChannel, Subscription, Sequence and Parallel reconcilers (pure)."""

from __future__ import annotations

from typing import Any

from .factories import Namespace, resource, service

MESSAGING = "messaging.knative.dev/v1"
FLOWS = "flows.knative.dev/v1"
KSVC = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "orders"}
CHANNEL = {"apiVersion": MESSAGING, "kind": "Channel", "name": "events"}
DLS = "http://dls.example.com/"


def channel(name: str = "events", **spec: Any) -> dict[str, Any]:
    return resource(MESSAGING, "Channel", name, dict(spec))


def subscription(name: str = "s", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"channel": CHANNEL, "subscriber": {"uri": "http://sub.example.com/"}}
    body.update(spec)
    return resource(MESSAGING, "Subscription", name, body)


def test_a_channel_creates_its_backing_imc_and_mirrors_its_address() -> None:
    ns = Namespace().apply(channel(delivery={"retry": 3}))
    imc = ns["InMemoryChannel", "events"]
    assert imc["metadata"]["ownerReferences"][0]["kind"] == "Channel"
    assert imc["spec"] == {"delivery": {"retry": 3}}
    url = "http://events-kn-channel.default.localhost:8080"
    assert ns.status("InMemoryChannel", "events")["address"] == {"name": "http", "url": url}
    status = ns.status("Channel", "events")
    assert status["address"]["url"] == url
    assert status["channel"] == {
        "apiVersion": MESSAGING,
        "kind": "InMemoryChannel",
        "name": "events",
        "namespace": "default",
    }
    assert ns.condition("Channel", "events") == ("True", "", "")
    assert ns.condition("Channel", "events", "EventPoliciesReady")[1] == "OIDCDisabled"


def test_a_long_channel_name_gets_a_shortened_host() -> None:
    name = "c" * 60
    ns = Namespace().apply(channel(name))
    host = ns.status("InMemoryChannel", name)["address"]["url"].split("//")[1].split(".")[0]
    assert len(host) <= 63 and host.endswith("-kn-channel")


def test_a_channel_of_a_kind_not_served_locally_is_not_ready() -> None:
    natss = {"apiVersion": "messaging.knative.dev/v1alpha1", "kind": "NatssChannel"}
    ns = Namespace().apply(channel(channelTemplate=natss))
    assert ns.names("InMemoryChannel") == [] and ns.names("KafkaChannel") == []
    ready, reason, message = ns.condition("Channel", "events", "BackingChannelReady")
    assert (ready, reason) == ("False", "ChannelFailure")
    assert "NatssChannel" in message and "KafkaChannel" in message
    assert ns.condition("Channel", "events")[0] == "False"


def test_a_kafka_channel_template_backs_the_channel_with_a_durable_kafka_channel() -> None:
    kafka = {
        "apiVersion": "messaging.knative.dev/v1beta1",
        "kind": "KafkaChannel",
        "spec": {"numPartitions": 3},
    }
    ns = Namespace().apply(channel(channelTemplate=kafka), subscription())
    backing = ns["KafkaChannel", "events"]
    assert backing["apiVersion"] == "messaging.knative.dev/v1beta1"
    assert backing["spec"]["numPartitions"] == 3
    assert backing["spec"]["retentionDuration"] == "PT168H"
    assert backing["spec"]["subscribers"][0]["subscriberUri"] == "http://sub.example.com/"
    url = "http://events-kn-channel.default.localhost:8080"
    assert ns.status("Channel", "events")["channel"]["kind"] == "KafkaChannel"
    assert ns.status("Channel", "events")["address"]["url"] == url
    assert ns.condition("Channel", "events") == ("True", "", "")
    assert ns.condition("Subscription", "s")[0] == "True"


def test_a_subscription_joins_the_backing_channel_with_its_effective_delivery() -> None:
    ns = Namespace().apply(
        channel(delivery={"retry": 5, "backoffDelay": "PT1S", "deadLetterSink": {"uri": DLS}}),
        subscription("inherits"),
        subscription("own", delivery={"retry": 1}),
    )
    entries = {e["name"]: e for e in ns["InMemoryChannel", "events"]["spec"]["subscribers"]}
    # no delivery of its own: the channel's retries and dead letter
    assert entries["inherits"]["delivery"] == {
        "retry": 5,
        "backoffDelay": "PT1S",
        "deadLetterSink": {"uri": DLS},
    }
    # its own delivery: its retries only, the channel's dead letter still
    assert entries["own"]["delivery"] == {"retry": 1, "deadLetterSink": {"uri": DLS}}
    assert "subscribers" not in ns["Channel", "events"]["spec"]
    assert ns.status("Subscription", "own")["physicalSubscription"]["deadLetterSinkUri"] == DLS
    assert ns.condition("Subscription", "own") == ("True", "", "")
    assert len(ns.status("Channel", "events")["subscribers"]) == 2


def test_a_subscription_resolves_refs_and_leaves_the_channel_when_deleted() -> None:
    ns = Namespace().apply(service(), channel(), subscription(subscriber={"ref": KSVC}))
    assert ns.status("Subscription", "s")["physicalSubscription"] == {
        "subscriberUri": "http://orders.default.localhost:8080"
    }
    generation = ns["InMemoryChannel", "events"]["metadata"]["generation"]
    ns.delete("Subscription", "s")
    assert "subscribers" not in ns["InMemoryChannel", "events"]["spec"]
    assert ns["InMemoryChannel", "events"]["metadata"]["generation"] == generation + 1


def test_a_subscription_to_a_missing_channel_or_subscriber_says_why() -> None:
    ns = Namespace().apply(subscription())
    assert ns.condition("Subscription", "s", "ReferencesResolved")[:2] == (
        "Unknown",
        "ChannelReferenceFailed",
    )
    ns.apply(channel(), subscription(subscriber={"ref": KSVC}))
    assert ns.condition("Subscription", "s", "ReferencesResolved")[:2] == (
        "False",
        "SubscriberResolveFailed",
    )
    assert ns.condition("Subscription", "s")[0] == "False"


def test_a_sequence_builds_a_channel_and_subscription_per_step() -> None:
    steps = [{"uri": "http://a/"}, {"uri": "http://b/", "delivery": {"retry": 2}}]
    seq = resource(FLOWS, "Sequence", "seq", {"steps": steps, "reply": {"uri": "http://r/"}})
    ns = Namespace().apply(seq)
    assert ns.names("InMemoryChannel") == ["seq-kn-sequence-0", "seq-kn-sequence-1"]
    first = ns["Subscription", "seq-kn-sequence-0"]["spec"]
    assert first["reply"]["ref"]["name"] == "seq-kn-sequence-1"
    last = ns["Subscription", "seq-kn-sequence-1"]["spec"]
    assert last["subscriber"] == {"uri": "http://b/"}
    assert last["delivery"] == {"retry": 2}
    assert last["reply"] == {"uri": "http://r/"}
    status = ns.status("Sequence", "seq")
    assert status["address"]["url"] == "http://seq-kn-sequence-0-kn-channel.default.localhost:8080"
    assert ns.condition("Sequence", "seq") == ("True", "", "")
    # one step fewer: the second step's children go
    ns.apply(resource(FLOWS, "Sequence", "seq", {"steps": steps[:1]}))
    assert ns.names("InMemoryChannel") == ["seq-kn-sequence-0"]
    assert ns.names("Subscription") == ["seq-kn-sequence-0"]
    assert "reply" not in ns["Subscription", "seq-kn-sequence-0"]["spec"]


def test_flows_of_a_kafka_channel_template_are_built_from_kafka_channels() -> None:
    kafka = {"apiVersion": "messaging.knative.dev/v1beta1", "kind": "KafkaChannel"}
    steps = [{"uri": "http://a/"}, {"uri": "http://b/"}]
    seq = resource(FLOWS, "Sequence", "seq", {"steps": steps, "channelTemplate": kafka})
    par = resource(
        FLOWS,
        "Parallel",
        "par",
        {"branches": [{"subscriber": {"uri": "http://s/"}}], "channelTemplate": kafka},
    )
    ns = Namespace().apply(seq, par)
    assert ns.names("InMemoryChannel") == []
    assert ns.names("KafkaChannel") == [
        "par-kn-parallel",
        "par-kn-parallel-0",
        "seq-kn-sequence-0",
        "seq-kn-sequence-1",
    ]
    assert ns["Subscription", "seq-kn-sequence-0"]["spec"]["reply"]["ref"]["kind"] == "KafkaChannel"
    assert ns.condition("Sequence", "seq") == ("True", "", "")
    assert ns.condition("Parallel", "par") == ("True", "", "")
    ns.apply(resource(FLOWS, "Sequence", "seq", {"steps": steps[:1], "channelTemplate": kafka}))
    assert "seq-kn-sequence-1" not in ns.names("KafkaChannel")


def test_a_parallel_builds_an_ingress_channel_and_per_branch_subscriptions() -> None:
    branches = [
        {"filter": {"uri": "http://f/"}, "subscriber": {"uri": "http://s0/"}},
        {"subscriber": {"uri": "http://s1/"}, "reply": {"uri": "http://own/"}},
    ]
    par = resource(FLOWS, "Parallel", "par", {"branches": branches, "reply": {"uri": "http://r/"}})
    ns = Namespace().apply(par)
    assert ns.names("InMemoryChannel") == [
        "par-kn-parallel",
        "par-kn-parallel-0",
        "par-kn-parallel-1",
    ]
    subs = {name: ns["Subscription", name]["spec"] for name in ns.names("Subscription")}
    assert subs["par-kn-parallel-filter-0"]["subscriber"] == {"uri": "http://f/"}
    assert subs["par-kn-parallel-filter-0"]["reply"]["ref"]["name"] == "par-kn-parallel-0"
    assert subs["par-kn-parallel-filter-1"]["subscriber"]["ref"]["name"] == "par-kn-parallel-1"
    assert subs["par-kn-parallel-0"]["reply"] == {"uri": "http://r/"}
    assert subs["par-kn-parallel-1"]["reply"] == {"uri": "http://own/"}
    assert ns.condition("Parallel", "par") == ("True", "", "")
    assert len(ns.status("Parallel", "par")["branchStatuses"]) == 2


def test_a_parallel_not_ready_is_false_where_a_sequence_is_unknown() -> None:
    broken = {"subscriber": {"ref": KSVC}}
    ns = Namespace().apply(
        resource(FLOWS, "Parallel", "par", {"branches": [broken]}),
        resource(FLOWS, "Sequence", "seq", {"steps": [{"ref": KSVC}]}),
    )
    assert ns.condition("Parallel", "par", "SubscriptionsReady")[:2] == (
        "False",
        "SubscriptionsNotReady",
    )
    assert ns.condition("Sequence", "seq", "SubscriptionsReady")[:2] == (
        "Unknown",
        "SubscriptionsNotReady",
    )


def test_deleting_a_flow_deletes_its_channels_and_subscriptions() -> None:
    ns = Namespace().apply(resource(FLOWS, "Sequence", "seq", {"steps": [{"uri": "http://a/"}]}))
    ns.delete("Sequence", "seq")
    assert ns.names("InMemoryChannel") == [] and ns.names("Subscription") == []


def test_a_trigger_and_a_subscription_can_point_at_a_sequence() -> None:
    seq = resource(FLOWS, "Sequence", "seq", {"steps": [{"uri": "http://a/"}]})
    seq_ref = {"ref": {"apiVersion": FLOWS, "kind": "Sequence", "name": "seq"}}
    ns = Namespace().apply(seq, channel(), subscription(subscriber=seq_ref))
    address = ns.status("Sequence", "seq")["address"]["url"]
    assert ns.status("Subscription", "s")["physicalSubscription"]["subscriberUri"] == address


def test_an_eventtype_is_ready_when_its_reference_exists() -> None:
    attributes = [{"name": n} for n in ("type", "source", "specversion", "id")]
    reference = {"apiVersion": MESSAGING, "kind": "Channel", "name": "events"}
    ns = Namespace().apply(
        resource("eventing.knative.dev/v1beta3", "EventType", "loose", {"attributes": attributes}),
        resource(
            "eventing.knative.dev/v1beta3",
            "EventType",
            "bound",
            {"attributes": attributes, "reference": reference},
        ),
    )
    assert ns.condition("EventType", "loose", "ReferenceExists")[:2] == ("True", "ReferenceNotSet")
    assert ns.condition("EventType", "bound")[:2] == ("False", "ResourceDoesNotExist")
    ns.apply(channel())
    assert ns.condition("EventType", "bound") == ("True", "", "")


def test_with_oidc_channels_announce_audiences_and_subscriptions_resolve_them() -> None:
    kafka = {"apiVersion": "messaging.knative.dev/v1beta1", "kind": "KafkaChannel"}
    dls = {"ref": {"apiVersion": MESSAGING, "kind": "Channel", "name": "dead"}}
    ns = Namespace(oidc=True).apply(
        channel(),
        channel("dead", channelTemplate=kafka),
        subscription(
            subscriber={"ref": KSVC},
            reply={"ref": {"apiVersion": MESSAGING, "kind": "Channel", "name": "dead"}},
            delivery={"deadLetterSink": dls},
        ),
        service(),
    )
    imc_audience = "messaging.knative.dev/inmemorychannel/default/events"
    kafka_audience = "messaging.knative.dev/kafkachannel/default/dead"
    assert ns.status("InMemoryChannel", "events")["address"]["audience"] == imc_audience
    assert ns.status("Channel", "events")["address"]["audience"] == imc_audience  # mirrored
    assert ns.status("Channel", "dead")["address"]["audience"] == kafka_audience
    status = ns.status("Subscription", "s")
    assert status["auth"] == {"serviceAccountName": "s-oidc-messaging.knative.dev-subscription"}
    physical = status["physicalSubscription"]
    assert physical["subscriberAudience"] == "serving.knative.dev/service/default/orders"
    assert physical["replyAudience"] == kafka_audience
    assert physical["deadLetterSinkAudience"] == kafka_audience
    [entry] = ns["InMemoryChannel", "events"]["spec"]["subscribers"]
    assert entry["subscriberAudience"] == physical["subscriberAudience"]
    assert entry["replyAudience"] == kafka_audience
    assert entry["delivery"]["deadLetterSink"]["audience"] == kafka_audience
    without = Namespace().apply(channel())
    assert "audience" not in without.status("Channel", "events")["address"]
