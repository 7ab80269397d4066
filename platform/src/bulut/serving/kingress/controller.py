"""The HAProxy ingress: keeps HAProxy's backends, slots and maps in line with the router.

It follows the router (routes, the revisions' runtimes, their ready instances) and on every
change makes a new :class:`~bulut.serving.kingress.plan.Plan`: a new backend set starts a
new HAProxy generation (its maps start empty, so its first requests go to the gateway until
the runtime API has filled them); anything else is runtime API commands. Every
``STATS_INTERVAL`` it reads ``show stat`` and gives each revision's tracker the requests
HAProxy carries (running and queued) and how many started, so the KPA scales on the warm
path as it does on the gateway's, and the metrics count the responses HAProxy gave per
revision and status class. HAProxy logs the requests whose trace is recorded; those lines
become the router span and the latency histogram's observations (:mod:`.access_log`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
from collections.abc import Callable
from pathlib import Path

from bulut.errors import BulutError
from bulut.observability.metrics import PlatformMetrics
from bulut.serving.kingress.access_log import AccessLog
from bulut.serving.kingress.config import RING, Layout, render
from bulut.serving.kingress.haproxy import HAProxyProcess
from bulut.serving.kingress.plan import Plan, RevisionView, commands, make_plan, parse_stat
from bulut.serving.revisions import RevisionRuntime, RevisionSpec
from bulut.serving.router import Router

logger = logging.getLogger(__name__)

STATS_INTERVAL = 0.25  # the KPA's buckets are seconds; its panic window 6 s
RESYNC_INTERVAL = 1.0  # NetworkPolicy verdicts and config-features change without a wake


def max_connections() -> int:
    """As many connections as the descriptor limit allows HAProxy (two each), at most 10,000."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        return 10_000
    return max(256, min(10_000, (hard - 200) // 2))


def view_of(runtime: RevisionRuntime, *, refused: bool, max_scale: int) -> RevisionView:
    """What HAProxy needs of a revision's runtime now."""
    spec = runtime.spec
    scale = runtime.autoscaler.spec.max_scale
    return RevisionView(
        namespace=spec.namespace,
        name=spec.name,
        ready_ports=tuple(instance.port for instance in runtime.ready),
        validates_events=spec.workload.validates_events,
        container_concurrency=spec.container_concurrency,
        timeout_seconds=spec.timeout_seconds,
        response_start_timeout_seconds=spec.response_start_timeout_seconds,
        idle_timeout_seconds=spec.idle_timeout_seconds,
        slots=min(scale, max_scale) if scale > 0 else max_scale,
        refused=refused,
    )


class HAProxyIngress:
    """HAProxy on ``listener`` in front of the gateway at ``activator`` (host:port)."""

    def __init__(
        self,
        router: Router,
        listener: socket.socket,
        activator: str,
        folder: Path,
        *,
        max_scale: int = 100,
        max_body_bytes: int = 0,
        access_log: bool = True,
        traces_per_second: float = 0.0,
        metrics: Callable[[], PlatformMetrics | None] | None = None,
        program: str | None = None,
    ) -> None:
        self.router = router
        self.folder = folder
        self.max_scale = max_scale
        folder.mkdir(parents=True, exist_ok=True)
        self.process = HAProxyProcess(folder, listener, program)
        self.activator = activator
        self.max_body_bytes = max_body_bytes
        self.access_log = access_log
        self.traces_per_second = traces_per_second
        self._metrics = metrics if metrics is not None else (lambda: router.metrics)
        self.plan = Plan()
        self.applied = 0  # plans applied (a test waits on it)
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._started: dict[str, int] = {}
        self._answered: dict[str, dict[str, int]] = {}  # backend -> class -> responses seen
        self.log: AccessLog | None = None

    # -- lifecycle ------------------------------------------------------------------
    async def start(self) -> None:
        """Start HAProxy with the current plan, then follow the router."""
        await self._sync()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._follow()),
            loop.create_task(self._routes_changed()),
            loop.create_task(self._poll_stats()),
        ]
        if self.access_log:
            self.log = AccessLog(self.revision_of, lambda: self.router.tracer, self._metrics)
            self._tasks.append(loop.create_task(self.log.follow(lambda: self.process.admin, RING)))

    def wake(self) -> None:
        """Something the plan depends on changed: sync soon."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop following and stop HAProxy."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.process.stop()

    # -- the plan -------------------------------------------------------------------
    def views(self) -> list[RevisionView]:
        """Every revision with a runtime, as HAProxy sees it."""
        refusals = self.router.refusals
        return [
            view_of(runtime, refused=key in refusals, max_scale=self.max_scale)
            for key, runtime in list(self.router.revisions.items())
        ]

    def layout(self) -> Layout:
        """Paths and addresses of the next generation."""
        return Layout(
            bind=self.process.bind,
            activator=self.activator,
            admin_socket=self.process.admin_socket(),
            routes_map=self.folder / "routes.map",
            tags_map=self.folder / "tags.map",
            access_log=self.access_log,
            max_body_bytes=self.max_body_bytes,
            max_connections=max_connections(),
            traces_per_second=self.traces_per_second,
        )

    def revision_of(self, backend: str) -> RevisionSpec | None:
        """The revision a backend serves (for the access log)."""
        key = self.plan.revisions.get(backend)
        runtime = self.router.revisions.get(key) if key is not None else None
        return runtime.spec if runtime is not None else None

    async def _sync(self) -> None:
        plan = make_plan(
            self.router.table,
            self.views(),
            tag_header_routing=self.router.tag_header_routing,
            previous=self.plan,
        )
        old: Plan | None = self.plan
        if self.process.process is None or plan.backends != self.plan.backends:
            layout = self.layout()
            layout.routes_map.write_text("")
            layout.tags_map.write_text("")
            await self.process.start(render(layout, plan.backends))
            self._started, self._answered = {}, {}
            old = None  # a fresh process: empty maps, every slot disabled
        await self.process.command(
            commands(old, plan, str(self.folder / "routes.map"), str(self.folder / "tags.map"))
        )
        self.plan = plan
        self.applied += 1

    async def _follow(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RESYNC_INTERVAL):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self._sync()
            except (BulutError, OSError) as error:
                logger.warning("haproxy ingress: sync failed (%s); retrying", error)
                await asyncio.sleep(0.2)
                self._wake.set()

    async def _routes_changed(self) -> None:
        while True:
            await self.router.next_change()
            self._wake.set()

    # -- the autoscaler's view -----------------------------------------------------------
    async def _poll_stats(self) -> None:
        while True:
            await asyncio.sleep(STATS_INTERVAL)
            with contextlib.suppress(BulutError, OSError):
                self.observe(await self.process.show("stat -1 2 -1"))

    def observe(self, stat: str) -> None:
        """Give each revision's tracker what HAProxy carries now, and the metrics the
        responses it gave since the last look (``show stat`` CSV)."""
        loads = parse_stat(stat)
        metrics = self._metrics()
        for backend, key in self.plan.revisions.items():
            load = loads.get(backend)
            runtime = self.router.revisions.get(key)
            if load is None or runtime is None:
                continue
            before = self._started.get(backend, load.total)
            self._started[backend] = load.total
            runtime.tracker.observe_outside(load.in_flight, max(0, load.total - before))
            seen = self._answered.setdefault(backend, {})  # a generation's counters start at 0
            for status, count in load.answered.items():
                new = count - seen.get(status, 0)
                seen[status] = count
                if new > 0 and metrics is not None:
                    spec = runtime.spec
                    metrics.ingress_responses(
                        spec.namespace, spec.service, spec.name, status, new, spec.configuration
                    )
