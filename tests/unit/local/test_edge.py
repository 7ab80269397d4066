"""Edge wiring: off by default; with an issuer, control-plane writes need a token."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from bulut.errors import ConfigError
from bulut.local.edge import guard, wrap
from bulut.serving.front import Front
from bulut.serving.router import Router
from bulut.serving.traffic import Split
from bulut.settings import Settings
from tests.support.issuer import AUDIENCE, ISSUER, Issuer


async def ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_without_auth_or_limits_the_app_is_served_as_is() -> None:
    assert wrap(ok, Settings(), control_plane=True) is ok


def test_an_issuer_without_keys_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="BULUT_AUTH_JWKS"):
        wrap(ok, Settings(auth_issuer=ISSUER), control_plane=True)


async def test_with_an_issuer_control_plane_reads_are_open_and_writes_need_a_token(
    tmp_path: Path,
) -> None:
    issuer = Issuer.generate()
    settings = Settings(
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        auth_jwks=str(issuer.write_jwks(tmp_path / "jwks.json")),
    )
    app = wrap(ok, settings, control_plane=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cp") as client:
        assert (await client.get("/apis/serving.knative.dev/v1/services")).status_code == 200
        assert (await client.post("/apis/serving.knative.dev/v1/services")).status_code == 401
        authorized = {"authorization": f"Bearer {issuer.token()}"}
        assert (await client.post("/apis/x", headers=authorized)).status_code == 200


async def test_with_an_issuer_the_data_plane_requires_a_token_everywhere(tmp_path: Path) -> None:
    issuer = Issuer.generate()
    settings = Settings(
        auth_issuer=ISSUER, auth_jwks=str(issuer.write_jwks(tmp_path / "jwks.json"))
    )
    transport = httpx.ASGITransport(app=wrap(ok, settings, control_plane=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://orders.x.localhost") as c:
        assert (await c.post("/orders")).status_code == 401


def test_without_auth_or_limits_the_gateway_gets_no_guard() -> None:
    assert guard(ok, Settings(), control_plane=False) is None


async def test_the_gateway_refuses_a_service_request_without_a_token(tmp_path: Path) -> None:
    issuer = Issuer.generate()
    settings = Settings(
        auth_issuer=ISSUER, auth_jwks=str(issuer.write_jwks(tmp_path / "jwks.json"))
    )
    router = Router({})
    router.table = {"orders.shop.localhost": Split.of("shop", "orders", [("orders-00001", 100)])}
    front = Front(router, guard=guard(ok, settings, control_plane=False))
    await front.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{front.port}") as client:
            host = {"host": "orders.shop.localhost"}
            refused = await client.post("/orders", headers=host)
            admitted = await client.post(
                "/orders", headers={**host, "authorization": f"Bearer {issuer.token()}"}
            )
    finally:
        await front.stop(grace=1.0)

    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert admitted.status_code == 503  # let in; no revision runs in this test
    assert admitted.text.strip() == "revision orders-00001 is not available"
