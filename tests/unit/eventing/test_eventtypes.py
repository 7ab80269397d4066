"""EventType auto-creation (pure parts): names, documents, the feature flag."""

from __future__ import annotations

import hashlib

from bulut.eventing.eventtypes import auto_created, eventtype_name, feature_enabled

BROKER = {
    "apiVersion": "eventing.knative.dev/v1",
    "kind": "Broker",
    "name": "Default_Broker",
    "namespace": "shop",
    "uid": "u-1",
}


def test_the_name_is_et_ref_and_an_md5_of_type_source_namespace_and_ref() -> None:
    digest = hashlib.md5(b"order.created/ordersshopDefault_Broker").hexdigest()
    name = eventtype_name("Default_Broker", "order.created", "/orders", "shop")
    assert name == f"et-defaultbroker-{digest}"
    assert len(eventtype_name("x" * 300, "t", "s", "ns")) == 253


def test_the_document_references_and_is_owned_by_what_received_the_event() -> None:
    attributes = {"type": "order.created", "source": "/orders", "specversion": "1.0"}
    document = auto_created(BROKER, attributes)
    assert document["apiVersion"] == "eventing.knative.dev/v1beta3"
    assert document["metadata"]["namespace"] == "shop"
    [owner] = document["metadata"]["ownerReferences"]
    assert owner == {k: BROKER[k] for k in ("apiVersion", "kind", "name", "uid")}
    assert "controller" not in owner
    assert document["spec"]["reference"]["namespace"] == "shop"
    assert document["spec"]["attributes"] == [
        {"name": "type", "value": "order.created", "required": True},
        {"name": "source", "value": "/orders", "required": True},
        {"name": "schemadata", "value": "", "required": True},
        {"name": "specversion", "value": "1.0", "required": True},
        {"name": "id", "required": True},
    ]


def test_auto_create_is_off_unless_enabled() -> None:
    assert not feature_enabled({})
    assert not feature_enabled({"data": {"eventtype-auto-create": "disabled"}})
    assert feature_enabled({"data": {"eventtype-auto-create": "Enabled"}})
