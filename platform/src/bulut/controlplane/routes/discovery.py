"""Discovery and OpenAPI: what kubectl reads first (`/version`, `/api`, `/apis`, `/openapi/v3`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bulut import __version__
from bulut.apis import discovery, openapi
from bulut.apis.registry import registry
from bulut.apis.status import status

from .encoding import json_response

router = APIRouter(include_in_schema=False)
_NOT_FOUND = "the server could not find the requested resource"


def _not_found() -> Response:
    return json_response(status(_NOT_FOUND, code=404, reason="NotFound"), 404)


@router.get("/version")
async def version() -> Response:
    return json_response(discovery.version_info(__version__))


@router.get("/api")
async def core(request: Request) -> Response:
    if discovery.wants_aggregated(request.headers.get("accept", "")):
        return json_response(
            discovery.aggregated(registry(), core=True), media_type=discovery.AGGREGATED
        )
    return json_response(discovery.api_versions(request.headers.get("host", "127.0.0.1")))


@router.get("/api/v1")
async def core_v1() -> Response:
    return json_response(discovery.resource_list(registry(), "", "v1"))


@router.get("/apis")
async def groups(request: Request) -> Response:
    if discovery.wants_aggregated(request.headers.get("accept", "")):
        return json_response(
            discovery.aggregated(registry(), core=False), media_type=discovery.AGGREGATED
        )
    return json_response(discovery.group_list(registry()))


@router.get("/apis/{group}")
async def group(group: str) -> Response:
    answer = discovery.api_group(registry(), group)
    return json_response(answer) if answer else _not_found()


@router.get("/apis/{group}/{version}")
async def group_version(group: str, version: str) -> Response:
    if not registry().in_group(group, version):
        return _not_found()
    return json_response(discovery.resource_list(registry(), group, version))


@router.get("/openapi/v2")
async def openapi_v2() -> Response:
    """Not served: kubectl reads v3 (and tolerates this 404)."""
    return _not_found()


@router.get("/openapi/v3")
async def openapi_index() -> Response:
    return json_response(openapi.index(registry()))


@router.get("/openapi/v3/{path:path}")
async def openapi_document(path: str, request: Request) -> Response:
    found = openapi.rendered(registry()).get(path)
    if found is None:
        return _not_found()
    body, digest = found
    headers = {"ETag": f'"{digest}"', "Vary": "Accept"}
    if request.query_params.get("hash") == digest:
        headers["Cache-Control"] = "public, immutable"
    return Response(body, media_type="application/json", headers=headers)
