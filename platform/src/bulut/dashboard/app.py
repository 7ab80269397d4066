"""The dashboard ASGI app: ``create_dashboard(feed, ...)``, mounted at ``/`` on :8081.

| route | what |
|---|---|
| ``GET /`` | the page, rendered with the current state |
| ``GET /dashboard/stream`` | Server-Sent Events: ``update`` with fresh HTML fragments |
| ``GET /dashboard/state.json`` | the same state as JSON (revisions' scale series) |

The event stream, dead letters and redelivery come straight from the eventing admin API
(``eventing_base``, same origin) in the browser. The feed is followed from
:meth:`Dashboard.start` (call it when the platform starts, so the charts have history),
or from the first request otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bulut.manifests.feed import ResourceFeed
from bulut.observability.metrics import PlatformMetrics

from .live import LiveState
from .pages import charts_fragment, page, resources_fragment
from .reports import latest_report

TICK_SECONDS = 2.0
MIN_PUSH_INTERVAL = 0.2


class Dashboard:
    """The dashboard over one feed; an ASGI app."""

    def __init__(
        self,
        feed: ResourceFeed,
        *,
        eventing_base: str | None = "/eventing",
        dr_reports_dir: Path | None = None,
        metrics: PlatformMetrics | None = None,
        gitops_base: str | None = None,
        window: float = 120.0,
        tick: float = TICK_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.feed = feed
        self.eventing_base = eventing_base.rstrip("/") if eventing_base else None
        self.dr_reports_dir = dr_reports_dir
        self.metrics = metrics
        self.gitops_base = gitops_base
        self.window = window
        self.tick = tick
        self.clock = clock  # when scale changes happen and where charts end (tests inject one)
        self.state = LiveState(clock=clock)
        self._task: asyncio.Task[None] | None = None
        self._app = Starlette(
            routes=[
                Route("/", self.index, methods=["GET"]),
                Route("/dashboard/stream", self.stream, methods=["GET"]),
                Route("/dashboard/state.json", self.snapshot, methods=["GET"]),
            ]
        )

    async def start(self) -> None:
        """Start following the feed (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self.state.follow(self.feed), name="dashboard-feed"
            )

    async def aclose(self) -> None:
        """End the live streams (so a server's graceful shutdown need not wait) and the feed."""
        self.state.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._task is None and not self.state.closed:
            await self.start()
        await self._app(scope, receive, send)

    def _requests(self) -> dict[tuple[str, str], int]:
        return self.metrics.request_counts() if self.metrics is not None else {}

    def fragments(self) -> dict[str, Any]:
        """The live parts of the page, rendered now."""
        return {
            "version": self.state.version,
            "resources": resources_fragment(self.state, self._requests()),
            "charts": charts_fragment(self.state, now=self.clock(), window=self.window),
        }

    async def index(self, request: Request) -> Response:
        """The page."""
        html = page(
            self.state,
            base=str(request.scope.get("root_path", "")).rstrip("/"),
            eventing_base=self.eventing_base,
            requests=self._requests(),
            report=latest_report(self.dr_reports_dir),
            gitops_base=self.gitops_base,
            now=self.clock(),
            window=self.window,
        )
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    async def stream(self, request: Request) -> Response:
        """SSE: an ``update`` now, then on every change (and every ``tick`` for the clock)."""

        async def events() -> AsyncIterator[bytes]:
            while not self.state.closed:
                fragments = self.fragments()
                yield b"event: update\ndata: " + json.dumps(fragments).encode() + b"\n\n"
                await self.state.wait(fragments["version"], self.tick)
                await asyncio.sleep(MIN_PUSH_INTERVAL)

        headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)

    async def snapshot(self, request: Request) -> Response:
        """The state as JSON: resources by kind and each revision's scale series."""
        return JSONResponse(
            {
                "version": self.state.version,
                "now": self.clock(),
                "resources": {
                    kind: [obj.get("metadata", {}) for obj in self.state.items(kind)]
                    for kind in sorted(self.state.objects)
                },
                "series": {
                    f"{ns}/{name}": [[p.at, p.actual, p.desired] for p in points]
                    for (ns, name), points in sorted(self.state.series.items())
                },
            }
        )


def create_dashboard(
    feed: ResourceFeed,
    *,
    eventing_base: str | None = "/eventing",
    dr_reports_dir: Path | None = None,
    metrics: PlatformMetrics | None = None,
    gitops_base: str | None = None,
) -> Dashboard:
    """The dashboard app for the control plane (mount it last, at ``/``)."""
    return Dashboard(
        feed,
        eventing_base=eventing_base,
        dr_reports_dir=dr_reports_dir,
        metrics=metrics,
        gitops_base=gitops_base,
    )
