"""eventing.knative.dev rules (Broker, Trigger): errors name the field; defaults; update rules."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.apis.rules.eventing import (
    check_trigger_update,
    default_broker,
    default_trigger,
    trigger_broker,
    validate_broker,
    validate_trigger,
)
from bulut.errors import InvalidResourceError


def trigger(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": "t"},
        "spec": {"broker": "default", "subscriber": {"uri": "http://x"}, **spec},
    }


INVALID_TRIGGERS = [
    ({"broker": None}, "spec.broker"),
    ({"subscriber": {}}, "spec.subscriber.ref, spec.subscriber.uri"),
    ({"subscriber": {"ref": {"kind": "Service", "name": "x"}}}, "spec.subscriber.ref.apiVersion"),
    ({"subscriber": {"uri": "relative/path"}}, "spec.subscriber.uri"),
    ({"filter": {"attributes": {"Type": "x"}}}, "spec.filter.attributes.Type"),
    ({"filter": {"attributes": {"type": 1}}}, "spec.filter.attributes.type"),
    ({"delivery": {"retry": -1}}, "spec.delivery.retry"),
    ({"delivery": {"backoffPolicy": "random"}}, "spec.delivery.backoffPolicy"),
    ({"delivery": {"backoffDelay": "0.2s"}}, "spec.delivery.backoffDelay"),
    ({"delivery": {"timeout": "PT0S"}}, "spec.delivery.timeout"),
    ({"delivery": {"format": "xml"}}, "spec.delivery.format"),
    (
        {"delivery": {"deadLetterSink": {}}},
        "spec.delivery.deadLetterSink.ref, spec.delivery.deadLetterSink.uri",
    ),
]


@pytest.mark.parametrize(("spec", "field"), INVALID_TRIGGERS)
def test_invalid_trigger_is_refused_naming_the_field(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidResourceError) as caught:
        validate_trigger(trigger(**spec))
    assert caught.value.field == field


def test_a_cesql_syntax_error_names_the_filter_and_position() -> None:
    with pytest.raises(InvalidResourceError) as caught:
        validate_trigger(trigger(filters=[{"exact": {"type": "a"}}, {"cesql": "type = 'a' AND ("}]))
    assert caught.value.field == "spec.filters[1].cesql"
    assert caught.value.message.startswith("spec.filters[1].cesql: ")
    assert "1:" in caught.value.message


def test_a_filter_with_two_dialects_is_refused() -> None:
    with pytest.raises(InvalidResourceError) as caught:
        validate_trigger(trigger(filters=[{"exact": {"type": "a"}, "prefix": {"type": "b"}}]))
    assert (caught.value.field or "").startswith("spec.filters[0]")


def test_valid_dialect_filters_pass() -> None:
    filters = [
        {"cesql": "type LIKE 'order.%' AND EXISTS subject"},
        {"not": {"prefix": {"source": "/x"}}},
    ]
    validate_trigger(trigger(filters=filters))


def test_trigger_with_ref_and_relative_uri_is_valid() -> None:
    ref = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "orders"}
    validate_trigger(trigger(subscriber={"ref": ref, "uri": "/events"}))


def test_broker_delivery_is_validated() -> None:
    broker = {
        "kind": "Broker",
        "metadata": {"name": "default"},
        "spec": {"delivery": {"retry": "x"}},
    }
    with pytest.raises(InvalidResourceError) as caught:
        validate_broker(broker)
    assert caught.value.field == "spec.delivery.retry"


def test_a_broker_gets_the_default_class_channel_config_and_delivery() -> None:
    broker = default_broker({"metadata": {"name": "default"}})
    assert broker["metadata"]["annotations"] == {
        "eventing.knative.dev/broker.class": "MTChannelBasedBroker"
    }
    assert broker["spec"]["config"]["name"] == "config-br-default-channel"
    assert broker["spec"]["delivery"] == {
        "retry": 10,
        "backoffPolicy": "exponential",
        "backoffDelay": "PT0.2S",
    }


def test_a_broker_of_another_class_keeps_its_own_config() -> None:
    broker = default_broker(
        {"metadata": {"annotations": {"eventing.knative.dev/broker.class": "Kafka"}}}
    )
    assert "config" not in broker["spec"]
    assert broker["spec"]["delivery"]["retry"] == 10


def test_a_trigger_is_labelled_with_its_broker_and_gets_an_empty_filter() -> None:
    defaulted = default_trigger(trigger())
    assert defaulted["metadata"]["labels"] == {"eventing.knative.dev/broker": "default"}
    assert defaulted["spec"]["filter"] == {}
    with_filters = default_trigger(trigger(filters=[{"exact": {"type": "x"}}]))
    assert "filter" not in with_filters["spec"]


def test_a_triggers_broker_is_immutable() -> None:
    check_trigger_update(trigger(), trigger(subscriber={"uri": "http://y"}))
    with pytest.raises(InvalidResourceError) as caught:
        check_trigger_update(trigger(), trigger(broker="other"))
    assert caught.value.field == "spec.broker"


def test_a_trigger_without_a_broker_subscribes_to_default() -> None:
    assert trigger_broker({"spec": {}}) == "default"
    assert trigger_broker(trigger(broker="shop")) == "shop"
