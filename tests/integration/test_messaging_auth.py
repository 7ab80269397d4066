"""Channels with auth on (``authentication-oidc``): each channel announces its audience, the
hops between channels carry the Subscription's platform token for it, and a request to a
channel without a valid token for its audience is refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest

from bulut.edge import EdgeMiddleware, identity
from bulut.local import LocalPlatform
from tests.support.eventing import subscriber
from tests.support.issuer import ISSUER, Issuer
from tests.support.messaging import NS, appending, event_headers, post, ready, sequence
from tests.support.platform import local_settings, running_platform

pytestmark = pytest.mark.asyncio

CHANNEL_0 = "orders-kn-sequence-0"


@pytest.fixture
async def users(tmp_path: Path) -> Issuer:
    return Issuer.generate()


@pytest.fixture
async def local(tmp_path: Path, users: Issuer) -> AsyncIterator[LocalPlatform]:
    jwks = users.write_jwks(tmp_path / "jwks.json")
    settings = local_settings(tmp_path, auth_issuer=ISSUER, auth_jwks=str(jwks))
    async with running_platform(settings) as platform:
        yield platform


def _edge(local: LocalPlatform) -> EdgeMiddleware:
    assert local.front is not None
    return cast(EdgeMiddleware, local.front.gateway.guard)


async def test_a_sequence_runs_with_auth_on_and_channels_refuse_other_audiences(
    local: LocalPlatform, users: Issuer
) -> None:
    async with (
        subscriber(respond=appending("validate")) as first,
        subscriber(respond=appending("price")) as second,
        subscriber() as reply,
    ):
        await local.apply_documents([sequence("orders", [first.url, second.url], reply.url)])
        found = await ready(local, "Sequence", "orders")
        audience = f"messaging.knative.dev/inmemorychannel/{NS}/{CHANNEL_0}"
        assert found["status"]["address"]["audience"] == audience
        step = await local.control.get("Subscription", NS, CHANNEL_0)
        assert step["status"]["auth"] == {
            "serviceAccountName": f"{CHANNEL_0}-oidc-messaging.knative.dev-subscription"
        }
        physical = step["status"]["physicalSubscription"]
        assert physical["replyAudience"].endswith("/inmemorychannel/default/orders-kn-sequence-1")
        address = found["status"]["address"]["url"]
        user = {"authorization": f"Bearer {users.token()}"}
        answer = await post(local, address, {**event_headers(), **user}, b'{"order": 7}')
        assert answer.status_code == 202, answer.text  # every hop ran before the answer
        [final] = reply.received
        assert json.loads(final.body) == {"order": 7, "steps": ["validate", "price"]}
        assert _edge(local).rejected[401] == 0  # no hop between channels was refused

        issuer = local.eventing.deliverer.issuer
        assert issuer is not None
        sender = identity.subscription(NS, "someone")
        for_channel = issuer.token(sender.subject, audience).token
        for_broker = issuer.token(sender.subject, identity.broker_audience(NS, "default")).token
        anonymous = await post(local, address, event_headers())
        wrong = await post(
            local, address, {**event_headers(), "authorization": f"Bearer {for_broker}"}
        )
        right = await post(
            local, address, {**event_headers(), "authorization": f"Bearer {for_channel}"}
        )
    assert anonymous.status_code == 401
    assert wrong.status_code == 401 and audience in wrong.text
    assert right.status_code == 202, right.text
