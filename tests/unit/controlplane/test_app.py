"""What a composition root serves beside the API is given to create_app, not patched in."""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from bulut.controlplane import ControlPlane
from bulut.controlplane.app import create_app


async def metrics(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("bulut_up 1\n")


async def page(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse(f"page {scope['path']}")(scope, receive, send)


async def test_routes_and_mounts_answer_after_the_api(control: ControlPlane) -> None:
    app = create_app(
        control,
        routes=[Route("/metrics", metrics)],
        mounts=[Mount("/eventing", page), Mount("/", page)],
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://control") as http:
        assert (await http.get("/healthz")).status_code == 200
        listed = await http.get("/apis/serving.knative.dev/v1/namespaces/default/services")
        assert listed.json()["kind"] == "ServiceList"
        assert (await http.get("/metrics")).text == "bulut_up 1\n"
        assert (await http.get("/eventing/tail")).text == "page /eventing/tail"
        assert (await http.get("/services/shop")).text == "page /services/shop"


async def test_the_plain_api_serves_nothing_else(control: ControlPlane) -> None:
    transport = httpx.ASGITransport(app=control.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://control") as http:
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/metrics")).status_code == 404
