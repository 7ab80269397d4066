"""``create_app(plane)``: the FastAPI app of the control plane (no side effects at import).

What a composition root serves beside the API (``/metrics``, the eventing admin app, the
dashboard) is given here as ``routes`` and ``mounts``, matched after the API's own routes,
in order (so a mount at ``/`` answers every path nothing else did).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.routing import BaseRoute, Mount

from bulut import __version__

from . import problems
from .access import TokenGuard
from .bodies import BodyLimit
from .routes import apply, discovery, health, resources

if TYPE_CHECKING:
    from .plane import ControlPlane


def create_app(
    plane: ControlPlane, *, routes: Sequence[BaseRoute] = (), mounts: Sequence[Mount] = ()
) -> FastAPI:
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
    app.add_middleware(BodyLimit)  # inside the token check: strangers get 401 first
    if plane.access is not None:
        app.add_middleware(TokenGuard, token=plane.access.token)
    problems.install(app)
    app.include_router(health.router)
    app.include_router(apply.router)
    app.include_router(discovery.router)
    app.include_router(resources.router)
    app.router.routes.extend([*routes, *mounts])
    return app
