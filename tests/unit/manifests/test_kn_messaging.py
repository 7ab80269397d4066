"""kn-style flags to channel, subscription, flow and event type documents; kn's list rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from bulut.errors import InvalidInputError
from bulut.manifests.kn_messaging import (
    age,
    channel_reference,
    channel_row,
    channel_spec,
    channel_type_rows,
    eventtype_row,
    parallel_spec,
    sequence_spec,
    sink,
    subscription_row,
    subscription_spec,
    updated_subscription,
)

NOW = datetime(2026, 1, 1, 1, 0, 0, tzinfo=UTC)


def test_sinks_take_kns_prefixes_and_a_bare_name_is_a_service() -> None:
    assert sink("orders") == {
        "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "orders"}
    }
    assert sink("channel:c")["ref"]["kind"] == "Channel"
    assert sink("sequence:s")["ref"]["apiVersion"] == "flows.knative.dev/v1"
    assert sink("http://x/") == {"uri": "http://x/"}
    with pytest.raises(InvalidInputError) as raised:
        sink("kafka:x", "--sink-reply")
    assert raised.value.field == "--sink-reply"


def test_channel_types_and_references() -> None:
    assert channel_spec(None) == {}
    assert channel_spec("imc")["channelTemplate"]["kind"] == "InMemoryChannel"
    kafka = channel_spec("messaging.knative.dev:v1beta1:KafkaChannel")["channelTemplate"]
    assert kafka == {"apiVersion": "messaging.knative.dev/v1beta1", "kind": "KafkaChannel"}
    assert channel_reference("c")["kind"] == "Channel"
    assert channel_reference("imc:c")["kind"] == "InMemoryChannel"
    assert channel_reference("messaging.knative.dev:v1:InMemoryChannel:c")["name"] == "c"
    with pytest.raises(InvalidInputError):
        channel_reference("a:b")


def test_subscriptions_and_flows_from_flags() -> None:
    spec = subscription_spec("c", "ksvc:s", "broker:b", "http://dls/")
    assert spec["reply"]["ref"]["kind"] == "Broker"
    assert spec["delivery"] == {"deadLetterSink": {"uri": "http://dls/"}}
    sequence = sequence_spec(["a", "http://b/"], None, "imc")
    assert [s.get("uri") for s in sequence["steps"]] == [None, "http://b/"]
    assert "reply" not in sequence
    parallel = parallel_spec(["s,filter=http://f/,reply=broker:b"], "http://r/", None)
    branch = parallel["branches"][0]
    assert branch["filter"] == {"uri": "http://f/"} and branch["reply"]["ref"]["name"] == "b"
    with pytest.raises(InvalidInputError):
        parallel_spec(["s,when=x"], None, None)
    with pytest.raises(InvalidInputError):
        sequence_spec([], None, None)


def test_rows_are_the_columns_kn_prints() -> None:
    channel = {
        "kind": "Channel",
        "metadata": {"name": "c", "creationTimestamp": "2026-01-01T00:58:00Z"},
        "spec": {"channelTemplate": {"kind": "InMemoryChannel"}},
        "status": {
            "address": {"url": "http://c-kn-channel.default.localhost"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }
    assert channel_row(channel, NOW) == [
        "c",
        "InMemoryChannel",
        "http://c-kn-channel.default.localhost",
        "2m",
        "True",
        "",
    ]
    subscription = {
        "metadata": {"name": "s"},
        "spec": {
            "channel": {"kind": "Channel", "name": "c"},
            "subscriber": {"ref": {"kind": "Service", "name": "orders"}},
            "reply": {"ref": {"kind": "Broker", "name": "default"}},
        },
    }
    assert subscription_row(subscription) == [
        "s",
        "Channel:c",
        "ksvc:orders",
        "broker:default",
        "",
        "<unknown>",
        "",
    ]
    eventtype = {
        "metadata": {"name": "et", "creationTimestamp": "2025-12-30T01:00:00Z"},
        "spec": {
            "attributes": [{"name": "type", "value": "t"}, {"name": "source", "value": "/s"}],
            "reference": {"kind": "Broker", "name": "default"},
        },
    }
    assert eventtype_row(eventtype, NOW) == ["et", "t", "/s", "Broker:default", "2d", "<unknown>"]
    assert age(None) == "" and age("2026-01-01T00:59:30Z", NOW) == "30s"


def test_subscription_update_replaces_only_the_flags_given() -> None:
    current: dict[str, Any] = {
        "metadata": {"name": "s", "resourceVersion": "7"},
        "spec": {
            "channel": {"apiVersion": "messaging.knative.dev/v1", "kind": "Channel", "name": "c"},
            "subscriber": {"uri": "http://old/"},
            "reply": {"uri": "http://reply/"},
            "delivery": {"retry": 3},
        },
    }
    updated = updated_subscription(current, subscriber="ksvc:audit", dead_letter="http://dls/")
    assert updated["spec"]["subscriber"]["ref"]["name"] == "audit"
    assert updated["spec"]["reply"] == {"uri": "http://reply/"}
    assert updated["spec"]["delivery"] == {"retry": 3, "deadLetterSink": {"uri": "http://dls/"}}
    assert updated["metadata"]["resourceVersion"] == "7"
    assert current["spec"]["subscriber"] == {"uri": "http://old/"}  # the input is untouched
    assert updated_subscription(current, channel="imc:d")["spec"]["channel"]["name"] == "d"
    with pytest.raises(InvalidInputError) as raised:
        updated_subscription(current, reply="kafka:x")
    assert raised.value.field == "--sink-reply"
    with pytest.raises(InvalidInputError, match="nothing to update"):
        updated_subscription(current)


def test_channel_types_are_the_channel_category_but_the_generic_channel() -> None:
    resources: list[Mapping[str, Any]] = [
        {"name": "channels", "kind": "Channel", "categories": ["all", "channel"]},
        {"name": "inmemorychannels", "kind": "InMemoryChannel", "categories": ["channel"]},
        {"name": "inmemorychannels/status", "kind": "InMemoryChannel"},
        {"name": "subscriptions", "kind": "Subscription", "categories": ["messaging"]},
    ]
    assert channel_type_rows("messaging.knative.dev", resources) == [
        [
            "InMemoryChannel",
            "inmemorychannels.messaging.knative.dev",
            "The events are stored in memory",
        ]
    ]
