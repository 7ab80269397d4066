"""The per-kind table: every served kind has a row, and admission's dispatch reads it."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.apis.registry import registry
from bulut.apis.rules import (
    CLUSTER_OBJECT,
    OBJECT_META_ONLY,
    RULES,
    Context,
    group_of,
    rules_for,
    with_defaults,
)
from bulut.errors import InvalidResourceError


def test_every_served_kind_has_a_rules_row() -> None:
    reconciled = {(r.group, r.kind) for r in registry() if not r.cluster_only}
    assert reconciled - set(RULES) == set()
    for resource in registry():
        row = rules_for(resource.group, resource.kind, cluster_only=resource.cluster_only)
        assert row is not OBJECT_META_ONLY or (resource.group, resource.kind) in RULES, resource


def test_every_row_is_a_served_kind() -> None:
    served = {(resource.group, resource.kind) for resource in registry()}
    assert set(RULES) - served == set()


def test_cluster_only_kinds_share_the_schema_row() -> None:
    cluster_only = [r for r in registry() if r.cluster_only]
    assert len(cluster_only) > 30
    for resource in cluster_only:
        assert rules_for(resource.group, resource.kind, cluster_only=True) is CLUSTER_OBJECT


def test_a_kind_is_found_by_its_group_not_only_its_name() -> None:
    knative_service = rules_for("serving.knative.dev", "Service")
    assert knative_service is RULES[("serving.knative.dev", "Service")]
    assert rules_for("", "Service") is OBJECT_META_ONLY  # a core v1 Service is another kind


def test_the_row_validates_with_the_platforms_configuration() -> None:
    service: dict[str, Any] = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": "orders", "namespace": "shop"},
        "spec": {
            "template": {
                "metadata": {"annotations": {"autoscaling.knative.dev/max-scale": "50"}},
                "spec": {"containers": [{"image": "orders"}]},
            }
        },
    }
    row = rules_for("serving.knative.dev", "Service")
    row.validate(service, Context())
    from bulut.manifests.autoscaling import AutoscalerConfig

    with pytest.raises(InvalidResourceError) as caught:
        row.validate(service, Context(AutoscalerConfig(max_scale_limit=10)))
    assert caught.value.field == (
        "spec.template.metadata.annotations.autoscaling.knative.dev/max-scale"
    )


def test_with_defaults_copies_and_defaults_by_group_and_kind() -> None:
    trigger = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": "t"},
        "spec": {"broker": "shop"},
    }
    defaulted = with_defaults(trigger)
    assert defaulted["metadata"]["namespace"] == "default"
    assert defaulted["metadata"]["labels"] == {"eventing.knative.dev/broker": "shop"}
    assert "labels" not in trigger["metadata"]  # the input is left as it was


@pytest.mark.parametrize(
    ("api_version", "group"),
    [("v1", ""), ("serving.knative.dev/v1", "serving.knative.dev"), ("apps/v1", "apps")],
)
def test_the_group_of_an_api_version(api_version: str, group: str) -> None:
    assert group_of(api_version) == group
