"""Access policies: first matching rule wins; bad files name the rule."""

from __future__ import annotations

import pytest

from bulut.edge.policy import AccessPolicy
from bulut.errors import ManifestError

POLICY = {
    "rules": [
        {"name": "reads", "path": "/apis/", "methods": ["GET"], "auth": "none"},
        {"name": "writes", "path": "/apis/", "auth": "required", "scopes": ["bulut.write"]},
        {"name": "orders", "host": "orders.*.localhost", "auth": "none", "rate": "5/s"},
    ],
    "default": "required",
}


def test_the_first_matching_rule_applies() -> None:
    policy = AccessPolicy.from_mapping(POLICY)
    assert policy.rule_for("127.0.0.1:8081", "/apis/x", "GET").name == "reads"
    assert policy.rule_for("127.0.0.1:8081", "/apis/x", "POST").name == "writes"
    assert policy.rule_for("orders.shop.localhost:8080", "/orders", "POST").name == "orders"


def test_requests_no_rule_covers_get_the_default() -> None:
    rule = AccessPolicy.from_mapping(POLICY).rule_for("x", "/metrics", "GET")
    assert (rule.name, rule.auth) == ("default", "required")


def test_an_open_policy_requires_nothing() -> None:
    assert AccessPolicy.open().rule_for("h", "/", "POST").auth == "none"


def test_an_invalid_rule_is_named() -> None:
    with pytest.raises(ManifestError, match=r"p.yaml: rules\[0\].auth: expected none or required"):
        AccessPolicy.from_mapping({"rules": [{"auth": "maybe"}]}, source="p.yaml")
