"""The sample app with JWT auth on (issue #20 item 5): the platform's own traffic authenticates.

With ``BULUT_AUTH_ISSUER``/``BULUT_AUTH_JWKS`` set, users need a token for the data plane, and
so do the platform's senders, as with Knative's ``authentication-oidc``: orders posts to the
broker with its SinkBinding's token, each Trigger delivers with its own, and receivers accept
a platform token only for their own audience.
"""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bulut.edge import identity
from bulut.local import LocalPlatform
from tests.support.issuer import ISSUER, Issuer
from tests.support.platform import NAMESPACE, ORDERS_HOST, decided_order, sample_app
from tests.support.waiting import eventually

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.xdist_group("function-builds"),
    pytest.mark.asyncio(loop_scope="module"),
]

AUDIT_HOST = {"host": f"audit.{NAMESPACE}.localhost"}
EVENT = {
    "ce-specversion": "1.0",
    "ce-id": "identity-1",
    "ce-source": "/test",
    "ce-type": "com.example.test",
    "content-type": "application/json",
}


@pytest.fixture(scope="module")
def users() -> Issuer:
    return Issuer.generate()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def platform(
    tmp_path_factory: pytest.TempPathFactory, repo_root: Path, users: Issuer
) -> AsyncIterator[LocalPlatform]:
    """One sample app with auth on for the module: each test reads or sends its own."""
    tmp_path = tmp_path_factory.mktemp("identities")
    jwks = users.write_jwks(tmp_path / "jwks.json")
    async with sample_app(tmp_path, repo_root, auth_issuer=ISSUER, auth_jwks=str(jwks)) as local:
        yield local


def _platform_token(platform: LocalPlatform, sender: identity.Identity, audience: str) -> str:
    issuer = platform.eventing.deliverer.issuer
    assert issuer is not None, "auth is on: the platform must have its own issuer"
    return issuer.token(sender.subject, audience).token


async def _deliveries(control: httpx.AsyncClient, event_ids: list[str]) -> list[dict[str, Any]]:
    async def settled() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = []
        for event_id in event_ids:
            for logged in (await control.get(f"/eventing/events/{event_id}")).json()["items"]:
                if logged["inFlight"]:
                    return None
                found.extend(logged["deliveries"])
        return found if found else None

    return await eventually(settled, "the order's deliveries to settle", timeout=60)


async def test_an_order_goes_through_the_saga_with_auth_on(
    platform: LocalPlatform, users: Issuer
) -> None:
    """The user's token gets the order in; every hop after it carries a platform token."""
    user = {"authorization": f"Bearer {users.token()}"}
    data = f"http://127.0.0.1:{platform.data_port}"
    async with httpx.AsyncClient(base_url=data, headers=user) as client:
        created = await client.post(
            "/orders",
            headers=ORDERS_HOST,
            json={
                "customer": "ada",
                "email": "ada@example.com",
                "card_token": "tok_ok",
                "items": [{"sku": "WIDGET-1", "quantity": 1}],
            },
        )
        assert created.status_code == 201, created.text
        order = await decided_order(client, str(created.json()["id"]))
    assert order["status"] == "paid", order
    event_ids = [step["id"] for step in order["history"]]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{platform.control_port}") as control:
        deliveries = await _deliveries(control, event_ids)
        dead = (await control.get("/eventing/dead-letters")).json()["items"]
    failed = [d for d in deliveries if d["outcome"] not in ("delivered", "replied")]
    assert failed == [], failed
    assert dead == []


async def test_senders_have_identities_and_addressables_audiences(
    platform: LocalPlatform,
) -> None:
    """What `kubectl get -o yaml` shows, as with Knative's authentication-oidc."""
    broker = await platform.control.get("Broker", NAMESPACE, "default")
    assert (
        broker["status"]["address"]["audience"]
        == f"eventing.knative.dev/broker/{NAMESPACE}/default"
    )
    trigger = await platform.control.get("Trigger", NAMESPACE, "audit-function-trigger-0")
    assert trigger["status"]["auth"] == {
        "serviceAccountName": "audit-function-trigger-0-oidc-eventing.knative.dev-trigger"
    }
    assert (
        trigger["status"]["subscriberAudience"] == f"serving.knative.dev/service/{NAMESPACE}/audit"
    )
    binding = await platform.control.get("SinkBinding", NAMESPACE, "orders")
    assert binding["status"]["auth"] == {
        "serviceAccountName": "orders-oidc-sources.knative.dev-sinkbinding"
    }
    assert binding["status"]["sinkAudience"] == broker["status"]["address"]["audience"]
    tokens = list(platform.layout.volumes.glob(f"{NAMESPACE}/.revisions/orders-*/oidc/token"))
    assert tokens, "the orders revision has no projected token"
    assert stat.S_IMODE(tokens[0].stat().st_mode) == 0o600


async def test_receivers_refuse_platform_tokens_meant_for_someone_else(
    platform: LocalPlatform,
) -> None:
    sender = identity.trigger(NAMESPACE, "audit-function-trigger-0")
    for_broker = _platform_token(platform, sender, identity.broker_audience(NAMESPACE, "default"))
    for_audit = _platform_token(platform, sender, identity.service_audience(NAMESPACE, "audit"))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{platform.data_port}") as client:
        anonymous = await client.post("/", headers={**AUDIT_HOST, **EVENT}, content=b"{}")
        wrong = await client.post(
            "/",
            headers={**AUDIT_HOST, **EVENT, "authorization": f"Bearer {for_broker}"},
            content=b"{}",
        )
        right = await client.post(
            "/",
            headers={**AUDIT_HOST, **EVENT, "authorization": f"Bearer {for_audit}"},
            content=b"{}",
        )
        broker = await client.post(
            f"/{NAMESPACE}/default",
            headers={**EVENT, "ce-id": "identity-2", "authorization": f"Bearer {for_broker}"},
            content=b"{}",
        )
    assert anonymous.status_code == 401
    assert wrong.status_code == 401
    assert "not 'serving.knative.dev/service/shop-dev/audit'" in wrong.text
    assert right.status_code == 204, right.text
    assert broker.status_code == 202, broker.text
