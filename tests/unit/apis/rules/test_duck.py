"""Knative's duck types: Destination and DeliverySpec, and which delivery applies."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.apis.rules.duck import (
    BACKOFF_POLICIES,
    check_destination,
    effective_delivery,
    validate_delivery,
)
from bulut.errors import InvalidResourceError
from bulut.eventing.backoff import BackoffPolicy
from bulut.eventing.delivery_spec import parse_delivery


def test_a_triggers_delivery_replaces_the_brokers_whole() -> None:
    broker = {"retry": 10, "deadLetterSink": {"uri": "http://dls"}}
    trigger = {"retry": 2}
    assert effective_delivery(trigger, broker) == {"retry": 2}
    assert parse_delivery(effective_delivery(trigger, broker)).dead_letter_sink_uri is None


def test_the_brokers_delivery_applies_when_the_trigger_has_none() -> None:
    broker = {"retry": 10}
    assert effective_delivery(None, broker) is broker
    assert effective_delivery({}, broker) is broker


INVALID_DELIVERIES = [
    ({"retry": -1}, "spec.delivery.retry"),
    ({"retry": True}, "spec.delivery.retry"),
    ({"backoffPolicy": "random"}, "spec.delivery.backoffPolicy"),
    ({"backoffDelay": "2s"}, "spec.delivery.backoffDelay"),
    ({"timeout": "PT0S"}, "spec.delivery.timeout"),
    ({"retryAfterMax": "soon"}, "spec.delivery.retryAfterMax"),
    ({"format": "xml"}, "spec.delivery.format"),
    ({"deadLetterSink": {"uri": "relative"}}, "spec.delivery.deadLetterSink.uri"),
]


@pytest.mark.parametrize(("delivery", "field"), INVALID_DELIVERIES)
def test_an_invalid_delivery_is_refused_naming_the_field(
    delivery: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidResourceError) as caught:
        validate_delivery(delivery, "spec.delivery")
    assert caught.value.field == field


def test_a_delivery_the_webhook_accepts_is_one_the_data_plane_reads() -> None:
    delivery = {
        "retry": 3,
        "backoffPolicy": "linear",
        "backoffDelay": "PT0.5S",
        "timeout": "PT2S",
        "format": "json",
        "deadLetterSink": {"uri": "http://dls"},
    }
    validate_delivery(delivery, "spec.delivery")
    spec = parse_delivery(delivery)
    assert (spec.retry, spec.backoff_policy, spec.backoff_delay) == (3, "linear", 0.5)
    assert spec.dead_letter_sink_uri == "http://dls"


def test_the_data_plane_knows_the_backoff_policies_the_webhook_accepts() -> None:
    assert {policy.value for policy in BackoffPolicy} == set(BACKOFF_POLICIES)


def test_a_destination_needs_a_complete_ref_or_an_absolute_uri() -> None:
    with pytest.raises(InvalidResourceError) as caught:
        check_destination({}, "spec.sink")
    assert caught.value.field == "spec.sink.ref, spec.sink.uri"
    with pytest.raises(InvalidResourceError) as caught:
        check_destination({"ref": {"kind": "Service", "name": "x"}}, "spec.sink")
    assert caught.value.field == "spec.sink.ref.apiVersion"
    check_destination({"uri": "http://x"}, "spec.sink")
