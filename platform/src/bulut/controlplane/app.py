"""``create_app(plane)``: the FastAPI app of the control plane (no side effects at import)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI

from bulut import __version__

from . import problems
from .access import TokenGuard
from .routes import apply, discovery, health, resources

if TYPE_CHECKING:
    from .plane import ControlPlane


def create_app(plane: ControlPlane) -> FastAPI:
    """The REST API over one control plane; its lifespan starts the plane if needed."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        owned = not plane.started
        if owned:
            await plane.start()
        try:
            yield
        finally:
            if owned:
                await plane.aclose()

    app = FastAPI(
        title="Bulut control plane",
        version=__version__,
        description="A Kubernetes API for Knative resources on one machine.",
        lifespan=lifespan,
    )
    app.state.control_plane = plane
    if plane.access is not None:
        app.add_middleware(TokenGuard, token=plane.access.token)
    problems.install(app)
    app.include_router(health.router)
    app.include_router(apply.router)
    app.include_router(discovery.router)
    app.include_router(resources.router)
    return app
