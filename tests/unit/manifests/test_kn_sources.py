"""kn-style flags of `bulut source apiserver|container`, `domain` and `jobsink` (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bulut.errors import InvalidInputError
from bulut.manifests.kn_sources import (
    ApiServerFlags,
    apiserver_row,
    apiserver_spec,
    ce_overrides,
    domain_row,
    domain_spec,
    resource_selector,
)

NOW = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
LABELS = {"b": "2", "a": "1"}


def test_a_resource_flag_reads_kind_api_version_and_match_labels() -> None:
    assert resource_selector("Service:serving.knative.dev/v1:app=shop,tier=web") == {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "selector": {"matchLabels": {"app": "shop", "tier": "web"}},
    }
    assert resource_selector("Event:v1") == {"apiVersion": "v1", "kind": "Event"}


@pytest.mark.parametrize("value", ["Event", ":v1", "Event:", "Event:v1:app"])
def test_a_malformed_resource_flag_is_refused_naming_it(value: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        resource_selector(value)
    assert caught.value.field == "--resource"


def test_ce_overrides_are_added_and_removed_like_kn() -> None:
    current = {"extensions": {"team": "shop", "env": "dev"}}
    assert ce_overrides(["env-", "tier=web"], current) == {
        "extensions": {"team": "shop", "tier": "web"}
    }
    assert ce_overrides(["team-", "env-"], current) is None


def test_an_apiserver_source_row_has_kns_columns() -> None:
    source = {
        "metadata": {"name": "watch", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {
            "resources": [
                {"apiVersion": "v1", "kind": "Event"},
                {"apiVersion": "v1", "kind": "Pod", "selector": {"matchLabels": LABELS}},
            ],
            "sink": {"ref": {"kind": "Broker", "name": "default"}},
        },
        "status": {
            "conditions": [
                {"type": "Ready", "status": "False", "reason": "SinkNotFound"},
                {"type": "Deployed", "status": "True"},
            ]
        },
    }  # fmt: skip
    assert apiserver_row(source, NOW) == [
        "watch", "Event:v1,Pod:v1:a=1,b=2", "broker:default", "5m", "1 OK / 2", "False",
        "SinkNotFound",
    ]  # fmt: skip


def test_an_update_without_flags_keeps_the_spec() -> None:
    current = {"resources": [{"apiVersion": "v1", "kind": "Event"}], "mode": "Resource"}
    assert apiserver_spec(ApiServerFlags(), current) == current


def test_a_domain_maps_to_a_service_by_default_and_tls_can_be_removed() -> None:
    spec = domain_spec("storefront", "shop-tls")
    assert spec == {
        "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "storefront"},
        "tls": {"secretName": "shop-tls"},
    }
    assert "tls" not in domain_spec(None, "", spec)
    mapping = {"metadata": {"name": "shop.example.com"}, "spec": spec, "status": {}}
    assert domain_row(mapping) == ["shop.example.com", "", "<unknown>", "storefront"]
