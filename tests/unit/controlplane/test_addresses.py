"""URLs in status and Destination resolution."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.controlplane.addresses import Addressing, resolve_destination

SERVICE_URL = "http://orders.default.localhost:8080"
OBJECTS: dict[tuple[str, str], dict[str, Any]] = {
    ("Service", "orders"): {"status": {"url": SERVICE_URL, "address": {"url": SERVICE_URL}}},
    ("Service", "pending"): {"status": {}},
    ("Broker", "default"): {
        "status": {"address": {"url": "http://127.0.0.1:8080/default/default"}}
    },
}


def ref(kind: str, name: str, **extra: str) -> dict[str, Any]:
    return {"ref": {"apiVersion": "x/v1", "kind": kind, "name": name, **extra}}


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        ({"uri": "http://example.com/a"}, "http://example.com/a"),
        (ref("Service", "orders"), SERVICE_URL),
        ({**ref("Service", "orders"), "uri": "/events"}, f"{SERVICE_URL}/events"),
        ({**ref("Service", "orders"), "uri": "events"}, f"{SERVICE_URL}/events"),
        (ref("Broker", "default"), "http://127.0.0.1:8080/default/default"),
    ],
)
def test_destinations_resolve_like_knative(destination: dict[str, Any], expected: str) -> None:
    assert resolve_destination(destination, "default", OBJECTS) == (expected, "")


@pytest.mark.parametrize(
    ("destination", "why"),
    [
        ({}, "neither ref nor uri is set"),
        (ref("Service", "ghost"), 'service "ghost" not found'),
        (ref("Service", "pending"), "does not have an address yet"),
        (ref("Service", "orders", namespace="shop"), "cross-namespace"),
        # a core v1 Service is not the Knative Service of the same name
        ({"ref": {"apiVersion": "v1", "kind": "Service", "name": "orders"}}, "not found"),
    ],
)
def test_unresolvable_destinations_say_why(destination: dict[str, Any], why: str) -> None:
    uri, message = resolve_destination(destination, "default", OBJECTS)
    assert uri is None
    assert why in message


def test_tag_and_broker_urls_follow_the_templates() -> None:
    addressing = Addressing(domain="example.com", host="127.0.0.1", data_port=80)
    assert addressing.service_url("orders", "shop") == "http://orders.shop.example.com"
    assert addressing.tag_url("canary", "orders", "shop") == "http://canary-orders.shop.example.com"
    assert addressing.broker_url("default", "shop") == "http://127.0.0.1/shop/default"
