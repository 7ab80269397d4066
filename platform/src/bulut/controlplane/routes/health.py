"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..deps import Resources
from ..models import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", summary="Readiness: the database answers", response_model=Health)
async def readyz(resources: Resources) -> JSONResponse:
    ready = await resources.ready()
    status = "ok" if ready else "not ready"
    return JSONResponse({"status": status}, status_code=200 if ready else 503)
