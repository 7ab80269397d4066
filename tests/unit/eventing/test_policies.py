"""Which Brokers an EventPolicy applies to, and the grants the edge gets from them."""

from __future__ import annotations

from typing import Any

from bulut.eventing.policies import applies_to, grants


def broker(name: str, namespace: str = "shop", **labels: str) -> dict[str, Any]:
    meta = {"name": name, "namespace": namespace, "labels": labels}
    return {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "metadata": meta}


def policy(
    to: list[dict[str, Any]] | None, allowed: list[str], namespace: str = "shop"
) -> dict[str, Any]:
    return {
        "kind": "EventPolicy",
        "metadata": {"name": "p", "namespace": namespace},
        "spec": {"to": to, "from": [{"sub": s} for s in allowed]},
        "status": {"from": allowed},
    }


def test_no_targets_means_every_broker_of_the_namespace_and_no_other() -> None:
    everything = policy(None, ["alice"])
    assert applies_to(everything, broker("a")) and applies_to(everything, broker("b"))
    assert not applies_to(everything, broker("a", namespace="elsewhere"))


def test_a_ref_names_one_broker_and_a_selector_matches_labels() -> None:
    by_ref = policy([{"ref": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                              "name": "a"}}], ["alice"])  # fmt: skip
    by_labels = policy([{"selector": {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker",
                                      "matchLabels": {"tier": "public"}}}], ["bob"])  # fmt: skip
    not_a_broker = policy([{"ref": {"apiVersion": "messaging.knative.dev/v1",
                                    "kind": "InMemoryChannel", "name": "a"}}], ["eve"])  # fmt: skip
    brokers = [broker("a"), broker("b", tier="public"), broker("c", tier="internal")]
    assert grants([by_ref, by_labels, not_a_broker], brokers) == {
        "eventing.knative.dev/broker/shop/a": ["alice"],
        "eventing.knative.dev/broker/shop/b": ["bob"],
    }


def test_policies_on_one_broker_add_up() -> None:
    found = grants([policy(None, ["alice"]), policy(None, ["bob"])], [broker("a")])
    assert found == {"eventing.knative.dev/broker/shop/a": ["alice", "bob"]}
