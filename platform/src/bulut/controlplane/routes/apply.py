"""Bulut's own endpoints: atomic multi-document apply, and runtime reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from .. import kinds
from ..deps import Resources
from ..models import ApplyRequest, ApplyResponse, RuntimeReport

router = APIRouter(prefix="/apis/bulut.dev/v1", tags=["bulut.dev"])


@router.post("/apply", summary="Apply documents atomically (validate all, then write)")
async def apply(request: ApplyRequest, resources: Resources) -> ApplyResponse:
    results = await resources.apply(
        request.documents, namespace=request.namespace, dry_run=request.dry_run
    )
    return ApplyResponse(results=results)


@router.post(
    "/namespaces/{namespace}/{plural}/{name}/report",
    summary="Merge runtime facts into status (ResourceFeed.report over HTTP)",
)
async def report(
    namespace: str,
    plural: str,
    name: str,
    body: Annotated[RuntimeReport, Body()],
    resources: Resources,
) -> dict[str, Any]:
    kind = kinds.lookup(plural).kind
    await resources.report(kind, namespace, name, body.runtime)
    return await resources.get(kind, namespace, name)
