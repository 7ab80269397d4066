"""Kubernetes-style REST for one API group: list/get/create/replace/patch/delete (+ watch).

Paths are a cluster's: ``/apis/<group>/<version>/namespaces/<ns>/<plural>[/<name>]``
(``/api/v1/...`` for ConfigMaps) and ``/apis/<group>/<version>/<plural>`` across
namespaces. ``?watch=true`` streams newline-delimited watch events.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query
from fastapi.responses import StreamingResponse

from bulut.errors import InvalidInputError
from bulut.manifests.feed import Resource

from .. import kinds, printing
from ..deps import ResourceAPI, Resources

Document = Annotated[dict[str, Any], Body(description="A Knative/Kubernetes resource.")]
Watch = Annotated[bool, Query(description="Stream watch events (ndjson) instead of a list.")]
Accept = Annotated[
    str, Header(description="`application/json;as=Table;v=v1;g=meta.k8s.io` for a table.")
]


def bind(document: dict[str, Any], info: kinds.KindInfo, namespace: str, name: str | None) -> None:
    """Fill apiVersion/kind/namespace from the path, and refuse a body that disagrees."""
    document.setdefault("apiVersion", info.api_version)
    document.setdefault("kind", info.kind)
    meta = document.setdefault("metadata", {})
    meta.setdefault("namespace", namespace)
    if name is not None:
        meta.setdefault("name", name)
    checks = (
        ("kind", document["kind"], info.kind),
        ("metadata.namespace", meta["namespace"], namespace),
        ("metadata.name", meta.get("name"), name if name is not None else meta.get("name")),
    )
    for field, got, want in checks:
        if got != want:
            raise InvalidInputError(
                f"{field} {got!r} does not match the URL ({want!r})", field=field
            )


def as_list(info: kinds.KindInfo, items: list[Resource]) -> dict[str, Any]:
    """A ``<Kind>List`` object."""
    return {
        "apiVersion": info.api_version,
        "kind": f"{info.kind}List",
        "metadata": {},
        "items": items,
    }


def stream(
    resources: ResourceAPI, info: kinds.KindInfo, namespace: str | None
) -> StreamingResponse:
    """Watch events for one kind as ndjson."""

    async def lines() -> AsyncIterator[bytes]:
        async for event in resources.watch(frozenset({info.kind})):
            if namespace is None or event["object"]["metadata"].get("namespace") == namespace:
                yield json.dumps(event).encode() + b"\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


async def listing(
    resources: ResourceAPI, info: kinds.KindInfo, namespace: str | None, accept: str
) -> dict[str, Any]:
    """A ``<Kind>List``, or a meta.k8s.io Table when the client asks for one."""
    items = await resources.list(info.kind, namespace)
    if "as=Table" not in accept:
        return as_list(info, items)
    context: dict[str, Any] = {}
    if info.kind == "Revision":
        routes = await resources.list("Route", namespace)
        context["traffic"] = printing.traffic_by_revision(routes)
    return printing.table(info.kind, items, all_namespaces=namespace is None, context=context)


def resource_router(group: str, version: str) -> APIRouter:
    """The router serving every stored kind of one API group."""
    root = f"/apis/{group}/{version}" if group else f"/api/{version}"
    router = APIRouter(prefix=root, tags=[group or "core"])
    item = "/namespaces/{namespace}/{plural}/{name}"

    def info_for(plural: str) -> kinds.KindInfo:
        return kinds.by_path(group, version, plural)

    @router.get("/{plural}", summary="List across namespaces", response_model=None)
    async def list_all(
        plural: str, resources: Resources, watch: Watch = False, accept: Accept = ""
    ) -> Any:
        info = info_for(plural)
        if watch:
            return stream(resources, info, None)
        return await listing(resources, info, None, accept)

    @router.get("/namespaces/{namespace}/{plural}", summary="List", response_model=None)
    async def list_namespaced(
        namespace: str, plural: str, resources: Resources, watch: Watch = False, accept: Accept = ""
    ) -> Any:
        info = info_for(plural)
        if watch:
            return stream(resources, info, namespace)
        return await listing(resources, info, namespace, accept)

    @router.post("/namespaces/{namespace}/{plural}", status_code=201, summary="Create")
    async def create(
        namespace: str, plural: str, document: Document, resources: Resources
    ) -> dict[str, Any]:
        bind(document, info_for(plural), namespace, None)
        return await resources.create(document, namespace)

    @router.get(item, summary="Get")
    async def read(namespace: str, plural: str, name: str, resources: Resources) -> dict[str, Any]:
        return await resources.get(info_for(plural).kind, namespace, name)

    @router.put(item, summary="Replace")
    async def replace(
        namespace: str, plural: str, name: str, document: Document, resources: Resources
    ) -> dict[str, Any]:
        bind(document, info_for(plural), namespace, name)
        return await resources.replace(document, namespace)

    @router.patch(item, summary="Patch (JSON merge patch)")
    async def patch(
        namespace: str, plural: str, name: str, document: Document, resources: Resources
    ) -> dict[str, Any]:
        return await resources.patch(info_for(plural).kind, namespace, name, document)

    @router.delete(item, summary="Delete (cascades to owned resources)")
    async def delete(
        namespace: str, plural: str, name: str, resources: Resources
    ) -> dict[str, Any]:
        kind = info_for(plural).kind
        deleted = await resources.get(kind, namespace, name)
        await resources.delete(kind, namespace, name)
        return deleted

    return router
