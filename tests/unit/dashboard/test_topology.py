"""The event topology (pure) and how the dashboard shows it."""

from __future__ import annotations

from typing import Any

from bulut.dashboard.live import LiveState
from bulut.dashboard.pages import topology_tables
from bulut.dashboard.topology import catalogue, event_paths

KSVC = {"apiVersion": "serving.knative.dev/v1", "kind": "Service"}


def obj(kind: str, name: str, spec: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": name, "namespace": "shop", **meta}, "spec": spec}


OBJECTS: dict[str, list[dict[str, Any]]] = {
    "PingSource": [
        obj("PingSource", "beat", {"sink": {"ref": {"kind": "Broker", "name": "default"}}})
    ],
    "ApiServerSource": [obj("ApiServerSource", "audit", {"sink": {"uri": "http://audit/"}})],
    "Trigger": [
        obj(
            "Trigger",
            "paid",
            {
                "broker": "default",
                "filter": {"attributes": {"type": "order.paid"}},
                "subscriber": {"ref": {**KSVC, "name": "notify"}},
            },
        )
    ],
    "Subscription": [
        obj(
            "Subscription",
            "audit",
            {
                "channel": {"kind": "Channel", "name": "orders"},
                "subscriber": {"uri": "http://audit/"},
                "reply": {"ref": {"kind": "Broker", "name": "default"}},
            },
        ),
        obj(
            "Subscription",
            "seq-kn-sequence-0",
            {"channel": {"kind": "InMemoryChannel", "name": "seq-kn-sequence-0"}},
            ownerReferences=[{"kind": "Sequence", "name": "seq"}],
        ),
    ],
    "Sequence": [
        obj(
            "Sequence",
            "seq",
            {
                "steps": [{"ref": {**KSVC, "name": "a"}}, {"uri": "http://b/"}],
                "reply": {"uri": "http://r/"},
            },
        )
    ],
    "Parallel": [
        obj(
            "Parallel",
            "par",
            {"branches": [{"filter": {"uri": "http://f/"}, "subscriber": {"uri": "http://s/"}}]},
        )
    ],
}


def test_every_configured_hop_is_a_path_with_sources_found_generically() -> None:
    paths = {
        (p.source, p.through, p.target)
        for p in event_paths(OBJECTS, ["PingSource", "ApiServerSource"])
    }
    assert paths == {
        ("PingSource beat", "", "broker:default"),
        ("ApiServerSource audit", "", "http://audit/"),
        ("Broker default", "Trigger paid [type=order.paid]", "ksvc:notify"),
        ("Channel orders", "Subscription audit", "http://audit/ → reply broker:default"),
        ("Sequence seq", "steps", "ksvc:a → http://b/ → reply http://r/"),
        ("Parallel par", "branch 0 [filter http://f/]", "http://s/"),
    }


def test_the_catalogue_groups_event_types_by_what_received_them() -> None:
    eventtype = obj(
        "EventType",
        "et",
        {
            "reference": {"kind": "Broker", "name": "default"},
            "attributes": [
                {"name": "type", "value": "order.created"},
                {"name": "source", "value": "/o"},
            ],
        },
    )
    assert catalogue([eventtype]) == {("shop", "Broker default"): [("order.created", "/o")]}


def test_the_dashboard_shows_the_topology_from_the_feed() -> None:
    state = LiveState()
    for items in OBJECTS.values():
        for item in items:
            state.apply({"type": "ADDED", "object": item})
    html = topology_tables(state)
    assert 'id="event-paths"' in html
    assert "Sequence seq" in html and "Trigger paid" in html
    assert "no event types" in html
