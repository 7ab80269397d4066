"""Reading Triggers, Brokers and Service capacity from Knative JSON."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.eventing.resources import parse_broker, parse_trigger, service_capacity


def _service(concurrency: int | None, max_scale: str | None) -> dict[str, Any]:
    annotations = {} if max_scale is None else {"autoscaling.knative.dev/max-scale": max_scale}
    spec: dict[str, Any] = {} if concurrency is None else {"containerConcurrency": concurrency}
    return {
        "kind": "Service",
        "metadata": {"name": "s", "namespace": "default"},
        "spec": {"template": {"metadata": {"annotations": annotations}, "spec": spec}},
    }


@pytest.mark.parametrize(
    ("concurrency", "max_scale", "capacity"),
    [(1, "1", 1), (4, "3", 12), (0, "3", 50), (1, None, 50), (None, None, 50), (2, "x", 50)],
)
def test_capacity_is_concurrency_times_max_scale_else_the_default(
    concurrency: int | None, max_scale: str | None, capacity: int
) -> None:
    assert service_capacity(_service(concurrency, max_scale), default=50) == capacity


def test_reads_a_trigger_with_its_resolved_urls() -> None:
    trigger = parse_trigger(
        {
            "kind": "Trigger",
            "metadata": {"name": "t", "namespace": "shop"},
            "spec": {
                "broker": "main",
                "filter": {"attributes": {"type": "order.created"}},
                "filters": [{"prefix": {"type": "order."}}],
                "delivery": {"retry": 2},
            },
            "status": {
                "subscriberUri": "http://orders.shop.localhost/",
                "deadLetterSinkUri": "http://dls.shop.localhost/",
            },
        }
    )
    assert trigger.key == "shop/t"
    assert trigger.broker == "main"
    assert trigger.filter_attributes == {"type": "order.created"}
    assert trigger.filters == ({"prefix": {"type": "order."}},)
    assert trigger.subscriber_uri == "http://orders.shop.localhost/"
    assert trigger.delivery == {"retry": 2}
    assert trigger.dead_letter_sink_uri == "http://dls.shop.localhost/"


def test_a_trigger_defaults_to_the_default_broker_and_changes_version_with_its_spec() -> None:
    base = {"kind": "Trigger", "metadata": {"name": "t"}, "spec": {}}
    changed = {
        "kind": "Trigger",
        "metadata": {"name": "t"},
        "spec": {"filter": {"attributes": {"type": "x"}}},
    }
    assert parse_trigger(base).broker == "default"
    assert parse_trigger(base).subscriber_uri is None
    assert parse_trigger(base).version != parse_trigger(changed).version


def test_reads_a_brokers_delivery() -> None:
    broker = parse_broker(
        {
            "kind": "Broker",
            "metadata": {"name": "default", "namespace": "ns"},
            "spec": {"delivery": {"retry": 10}},
        }
    )
    assert (broker.namespace, broker.name, broker.delivery) == ("ns", "default", {"retry": 10})
