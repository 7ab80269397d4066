"""Senders' identities and receivers' audiences, as Knative's authentication-oidc names them."""

from __future__ import annotations

import pytest

from bulut.edge import identity


def test_a_trigger_gets_knatives_oidc_service_account_and_subject() -> None:
    sender = identity.trigger("shop-dev", "audit-function-trigger-0")
    assert sender.service_account == "audit-function-trigger-0-oidc-eventing.knative.dev-trigger"
    assert sender.subject == (
        "system:serviceaccount:shop-dev:audit-function-trigger-0-oidc-eventing.knative.dev-trigger"
    )


def test_sources_and_bindings_are_named_after_their_group_and_kind() -> None:
    assert identity.ping_source("ns", "heartbeat").service_account == (
        "heartbeat-oidc-sources.knative.dev-pingsource"
    )
    assert identity.sink_binding("ns", "orders").service_account == (
        "orders-oidc-sources.knative.dev-sinkbinding"
    )
    channel_sender = identity.for_resource("Subscription", "messaging.knative.dev/v1", "ns", "s")
    assert channel_sender.service_account == "s-oidc-messaging.knative.dev-subscription"


@pytest.mark.parametrize("name", ["a" * 40, "b" * 63, "c" * 253])
def test_long_names_stay_within_63_characters_and_distinct(name: str) -> None:
    account = identity.trigger("ns", name).service_account
    other = identity.trigger("ns", name + "x").service_account
    assert len(account) <= 63
    assert account != other


@pytest.mark.parametrize(
    ("host", "path", "audience"),
    [
        ("audit.shop-dev.localhost:8080", "/", "serving.knative.dev/service/shop-dev/audit"),
        ("AUDIT.shop-dev.localhost", "/x/y", "serving.knative.dev/service/shop-dev/audit"),
        ("127.0.0.1:8080", "/shop-dev/default", "eventing.knative.dev/broker/shop-dev/default"),
        ("127.0.0.1:8080", "/shop-dev/default?x=1", "eventing.knative.dev/broker/shop-dev/default"),
        ("127.0.0.1:8080", "/healthz", None),
        ("a.b.c.localhost", "/", None),
    ],
)
def test_the_receiver_audience_follows_host_then_path(
    host: str, path: str, audience: str | None
) -> None:
    assert identity.receiver_audience(host, path, "localhost") == audience
