"""``/metrics``: the Prometheus text exposition of one registry, as an ASGI app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, make_asgi_app
from starlette.routing import Route

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class MetricsEndpoint:
    """An ASGI app serving ``registry`` (an object, so Starlette's ``Route`` mounts it as ASGI).

    Mount it with :func:`metrics_route` (a plain ``Route``: no ``/metrics/`` redirect).
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._app = make_asgi_app(registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def metrics_route(registry: CollectorRegistry, path: str = "/metrics") -> Route:
    """A Starlette/FastAPI route serving ``registry`` at ``path`` (GET only).

    Give it to ``create_app(plane, routes=[...])`` (it must come before any catch-all mount).
    """
    return Route(path, MetricsEndpoint(registry), methods=["GET"], include_in_schema=False)
