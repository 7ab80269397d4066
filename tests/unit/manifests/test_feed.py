"""The feed contract: the order in which a watch lists what already exists."""

from __future__ import annotations

from bulut.manifests.feed import initial_order


def named(kind: str, name: str) -> dict[str, object]:
    return {"kind": kind, "metadata": {"name": name}}


def test_configmaps_and_sinkbindings_come_before_the_revisions_they_shape() -> None:
    stored = [
        named("Revision", "a-00001"),
        named("Route", "a"),
        named("SinkBinding", "bind-a"),
        named("Revision", "b-00001"),
        named("ConfigMap", "config-autoscaler"),
    ]
    listed = [(r["kind"], r["metadata"]["name"]) for r in initial_order(stored)]
    assert listed == [
        ("ConfigMap", "config-autoscaler"),
        ("SinkBinding", "bind-a"),
        ("Revision", "a-00001"),
        ("Route", "a"),
        ("Revision", "b-00001"),
    ]


def test_an_empty_store_lists_nothing() -> None:
    assert initial_order([]) == []
