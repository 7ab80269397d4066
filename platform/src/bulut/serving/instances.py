"""Instances: function processes, their readiness probes and their shutdown.

An instance is a :class:`~bulut.serving.zygote.Child` (taken from the revision's zygote
pool, forked from it, or spawned fresh when there is none) plus what the data plane
keeps beside it: its breaker (containerConcurrency), its connection pool and its state.
Readiness is the revision's probe (the function's ``/health/readiness`` for kn func, a
TCP connect otherwise, or its readinessProbe): the process runs it itself as soon as it
listens and says whether it passed (ADR 0023), and the revision routes to it on that word
(ADR 0027); when it did not, or cannot say, the runtime probes as queue-proxy does,
aggressively: every 50 ms.
Shutdown follows the runtime contract: SIGTERM, wait for the process to drain and exit,
SIGKILL after the grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import signal
import time
from typing import Any

from bulut.httpd import OriginError, OriginPool
from bulut.serving.queue import Breaker
from bulut.serving.zygote import Child

PROBE_INTERVAL = 0.05
PROBE_ATTEMPT_TIMEOUT = 1.0
PROBE_HEADERS = [(b"user-agent", b"Knative-Bulut-Probe"), (b"k-kubelet-probe", b"queue")]


class State(enum.Enum):
    """Where an instance is in its life."""

    STARTING = "starting"
    READY = "ready"
    DRAINING = "draining"
    GONE = "gone"


class Instance:
    """One function process serving on ``127.0.0.1:port``."""

    def __init__(self, child: Child, *, container_concurrency: int, cold_start: str) -> None:
        self.child = child
        self.pid = child.pid
        self.port = child.port
        self.cold_start = cold_start  # "pool", "fork" or "spawn"
        self.breaker = Breaker(container_concurrency)
        self.upstream = OriginPool("127.0.0.1", child.port)
        self.state = State.STARTING
        self.started_at = time.monotonic()
        self.ready_at: float | None = None
        self.stopping = False
        self._ahead: asyncio.Future[None] | None = None  # the first request's connection

    @property
    def exited(self) -> asyncio.Future[int]:
        """Resolves with the exit code (negative: killed by that signal)."""
        return self.child.exited

    def __repr__(self) -> str:
        return f"Instance(pid={self.pid}, port={self.port}, state={self.state.value})"

    @property
    def said_ready(self) -> bool:
        """Whether the process said its own readiness probe passed (ADR 0023)."""
        word = self.child.listening
        return word is not None and word.done() and not word.cancelled() and word.result()

    def connect_ahead(self) -> None:
        """Open the first request's connection now, while the process starts: the port
        listens from the take on, so it waits in the backlog (ADR 0023)."""
        if self._ahead is None:
            self._ahead = asyncio.ensure_future(self._connect_ahead())

    async def wait_ready(
        self, readiness_path: str, deadline: float, *, again: bool = False
    ) -> bool:
        """Ready (True) once a probe from here passes; False when the process exits or
        ``deadline`` passes first. A process that said its own probe passed is ready at
        once, unless ``again`` (an instance found unreachable).

        The probe goes from here as queue-proxy's does: an HTTP GET of ``readiness_path``
        or a TCP connect ("" path), every 50 ms until one passes. (A process that can say
        so runs the probe itself; the revision routes on its word: ADR 0023, ADR 0027.)
        """
        if self.said_ready and not again:
            return True
        while time.monotonic() < deadline:
            if self.exited.done():
                return False
            probe = asyncio.ensure_future(self._probe_once(readiness_path))
            racing: set[asyncio.Future[Any]] = {probe, self.exited}
            done, _ = await asyncio.wait(
                racing, timeout=PROBE_ATTEMPT_TIMEOUT, return_when="FIRST_COMPLETED"
            )
            if probe in done and probe.result():
                return True
            if probe not in done:
                probe.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await probe
            if self.exited.done():
                return False
            await asyncio.sleep(PROBE_INTERVAL)
        return False

    async def _connect_ahead(self) -> None:
        """Open the first request's connection while the process starts: the kernel
        completes it from the port's backlog, and it waits idle in the pool."""
        try:
            connection = await self.upstream.connect()
        except OriginError:
            return  # the first request connects (and finds out) itself
        self.upstream.release(connection)

    async def _probe_once(self, readiness_path: str) -> bool:
        if not readiness_path:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                return False
            writer.close()
            return True
        try:
            response = await self.upstream.request("GET", readiness_path, headers=PROBE_HEADERS)
        except OriginError:
            return False
        return 200 <= response.status < 400

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the process if it still runs."""
        if not self.exited.done():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    async def stop(self, grace: float) -> int:
        """SIGTERM, then SIGKILL once ``grace`` seconds pass; the exit code."""
        self.stopping = True
        self.state = State.DRAINING if self.state is not State.GONE else State.GONE
        self.signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(asyncio.shield(self.exited), grace)
        except TimeoutError:
            self.signal(signal.SIGKILL)
            code = await asyncio.wait_for(asyncio.shield(self.exited), 10.0)
        self.state = State.GONE
        self.upstream.close()
        return code
