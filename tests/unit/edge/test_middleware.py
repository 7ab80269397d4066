"""The edge middleware in front of a real ASGI app: 401, 403, 429 and pass-through."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from bulut.edge import (
    AccessPolicy,
    EdgeMiddleware,
    JWKSource,
    PlatformIssuer,
    RateLimiter,
    TokenVerifier,
)
from tests.support.issuer import AUDIENCE, ISSUER, Issuer


async def echo_subject(scope: Scope, receive: Receive, send: Send) -> None:
    subject = scope.get("bulut.claims", {}).get("sub", "anonymous")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": subject.encode()})


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer.generate()


def _client(app: EdgeMiddleware) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://h")


def _edge(issuer: Issuer, tmp_path: Path, *, limiter: RateLimiter | None = None) -> EdgeMiddleware:
    policy = AccessPolicy.from_mapping(
        {
            "rules": [
                {"name": "open", "path": "/open", "auth": "none"},
                {"name": "admin", "path": "/admin", "scopes": ["bulut.write"]},
            ]
        }
    )
    verifier = TokenVerifier(ISSUER, AUDIENCE, JWKSource(str(issuer.write_jwks(tmp_path / "k"))))
    return EdgeMiddleware(echo_subject, policy=policy, verifier=verifier, limiter=limiter)


async def test_a_missing_token_is_a_401_problem_with_a_bearer_challenge(
    issuer: Issuer, tmp_path: Path
) -> None:
    async with _client(_edge(issuer, tmp_path)) as client:
        response = await client.get("/private")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert "missing bearer token" in response.json()["detail"]


async def test_a_good_token_reaches_the_app_with_its_claims(issuer: Issuer, tmp_path: Path) -> None:
    headers = {"authorization": f"Bearer {issuer.token(alg='ES256')}"}
    async with _client(_edge(issuer, tmp_path)) as client:
        response = await client.get("/private", headers=headers)
    assert (response.status_code, response.text) == (200, "alice")


async def test_open_routes_need_no_token(issuer: Issuer, tmp_path: Path) -> None:
    async with _client(_edge(issuer, tmp_path)) as client:
        assert (await client.get("/open")).text == "anonymous"


async def test_a_token_without_the_scope_is_forbidden(issuer: Issuer, tmp_path: Path) -> None:
    edge = _edge(issuer, tmp_path)
    async with _client(edge) as client:
        denied = await client.post("/admin", headers={"authorization": f"Bearer {issuer.token()}"})
        allowed = await client.post(
            "/admin", headers={"authorization": f"Bearer {issuer.token(scope='bulut.write')}"}
        )
    assert denied.status_code == 403 and "bulut.write" in denied.json()["detail"]
    assert allowed.status_code == 200
    assert edge.rejected[403] == 1


async def test_over_the_rate_a_client_gets_429_with_retry_after(
    issuer: Issuer, tmp_path: Path
) -> None:
    edge = _edge(issuer, tmp_path, limiter=RateLimiter(rate=0.5, burst=2))
    async with _client(edge) as client:
        statuses = [(await client.get("/open")).status_code for _ in range(3)]
        limited = await client.get("/open")
    assert statuses == [200, 200, 429]
    assert limited.headers["retry-after"] == "2"


def _platform_edge(issuer: Issuer, tmp_path: Path, platform: PlatformIssuer) -> EdgeMiddleware:
    policy = AccessPolicy.from_mapping({"rules": [{"path": "/", "scopes": ["bulut.write"]}]})
    verifier = TokenVerifier(ISSUER, AUDIENCE, JWKSource(str(issuer.write_jwks(tmp_path / "k"))))
    return EdgeMiddleware(echo_subject, policy=policy, verifier=verifier, platform=platform)


async def test_a_platform_token_is_accepted_for_the_receivers_own_audience_only(
    issuer: Issuer, tmp_path: Path
) -> None:
    """authentication-oidc: the audience is the receiver's (Host, then path), never the rule's;
    scopes are for user tokens."""
    platform = PlatformIssuer("http://127.0.0.1:8081/oidc")
    sender = "system:serviceaccount:shop:t-oidc-eventing.knative.dev-trigger"
    for_audit = platform.token(sender, "serving.knative.dev/service/shop/audit").token
    for_broker = platform.token(sender, "eventing.knative.dev/broker/shop/default").token
    edge = _platform_edge(issuer, tmp_path, platform)
    async with _client(edge) as client:
        audit = {"host": "audit.shop.localhost:8080"}
        delivered = await client.post(
            "/", headers={**audit, "authorization": f"Bearer {for_audit}"}
        )
        misdirected = await client.post(
            "/", headers={**audit, "authorization": f"Bearer {for_broker}"}
        )
        posted = await client.post(
            "/shop/default", headers={"authorization": f"Bearer {for_broker}"}
        )
    assert (delivered.status_code, delivered.text) == (200, sender)
    assert misdirected.status_code == 401
    assert "is for audience 'eventing.knative.dev/broker/shop/default'" in misdirected.text
    assert (posted.status_code, posted.text) == (200, sender)
