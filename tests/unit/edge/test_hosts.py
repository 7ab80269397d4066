"""Host and Origin checks: DNS rebinding and cross-origin browser writes are refused
(issue #20, item 2), on the control plane (ASGI) and the data plane (gateway, real socket)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from bulut.edge.hosts import HostGuard, HostPolicy, exposure
from bulut.serving.front import Front
from bulut.serving.router import Router
from bulut.settings import Settings

LOOPBACK = HostPolicy.for_settings(Settings())


async def ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:8081", "localhost:8081", "LOCALHOST", "[::1]:8081", "127.0.0.2",
     "orders.shop-dev.localhost:8080", "tag-orders.shop-dev.localhost", "localhost."],
)  # fmt: skip
def test_the_platforms_own_addresses_are_allowed(host: str) -> None:
    assert LOOPBACK.allows(host)


@pytest.mark.parametrize(
    "host", ["evil.example:8081", "localhost.evil.example", "10.0.0.5:8081", "[fe80::1]", "x"]
)
def test_other_names_and_addresses_are_refused(host: str) -> None:
    assert not LOOPBACK.allows(host)


def test_allowed_hosts_and_a_wildcard_bind_widen_the_list() -> None:
    policy = HostPolicy.for_settings(Settings(host="0.0.0.0", allowed_hosts="dev.example,Box"))
    assert policy.allows("10.0.0.5:8081")  # an IP literal cannot be a rebinding name
    assert policy.allows("dev.example") and policy.allows("box:8080")
    assert not policy.allows("evil.example")
    assert HostPolicy.for_settings(Settings(domain="apps.test")).allows("svc.ns.apps.test")


async def test_the_control_plane_refuses_a_foreign_host_and_cross_origin_writes() -> None:
    transport = httpx.ASGITransport(app=HostGuard(ok, LOOPBACK))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8081") as http:
        rebound = await http.get("/apis", headers={"host": "attacker.example:8081"})
        assert rebound.status_code == 400
        assert rebound.json()["field"] == "Host"
        cross = {"origin": "https://attacker.example"}
        assert (await http.post("/apis/bulut.dev/v1/apply", headers=cross)).status_code == 403
        fetch = {"sec-fetch-site": "cross-site"}
        assert (await http.delete("/apis/x", headers=fetch)).status_code == 403
        assert (await http.post("/x", headers={"origin": "null"})).status_code == 403
        assert (await http.get("/apis", headers=cross)).status_code == 200  # reads are fine
        same = {"origin": "http://localhost:8081", "sec-fetch-site": "same-origin"}
        assert (await http.post("/apis/bulut.dev/v1/apply", headers=same)).status_code == 200
        assert (await http.post("/apis/bulut.dev/v1/apply")).status_code == 200  # kubectl, curl


async def test_the_data_plane_refuses_a_foreign_host() -> None:
    front = Front(Router({}, fallback=None), hosts=LOOPBACK)
    await front.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{front.port}") as http:
            rebound = await http.post("/shop-dev/default", headers={"host": "attacker.example"})
            ours = await http.post("/shop-dev/default")
    finally:
        await front.stop(grace=1.0)
    assert rebound.status_code == 400
    assert rebound.json()["field"] == "Host"
    assert ours.status_code == 404  # let in: no broker in this test


def test_start_up_says_who_can_reach_what() -> None:
    (local,) = exposure(Settings())
    assert "this machine only" in local
    exposed = exposure(Settings(host="0.0.0.0", state_dir=Path("/srv/bulut")))
    assert exposed[0].startswith("WARNING: listening on every interface")
    assert "requires the bearer token in /srv/bulut/controlplane/token" in exposed[1]
    assert "WITHOUT authentication" in exposed[2]


def test_off_loopback_with_an_issuer_both_planes_say_they_require_tokens() -> None:
    """The control plane's own token (issue #14) and the data plane's JWTs (issue #20)."""
    exposed = exposure(Settings(host="192.0.2.10", auth_issuer="https://issuer.test"))
    assert exposed[0].startswith("WARNING: listening on 192.0.2.10")
    assert "requires the bearer token" in exposed[1]
    assert "requires a bearer token from https://issuer.test" in exposed[2]
    assert not any("WITHOUT" in line or "NO authentication" in line for line in exposed)
