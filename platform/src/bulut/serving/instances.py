"""Instances: function processes, their readiness probes and their shutdown.

An instance is a :class:`~bulut.serving.zygote.Child` (taken from the revision's zygote
pool, forked from it, or spawned fresh when there is none) plus what the data plane
keeps beside it: its breaker (containerConcurrency), its connection pool and its state.
Readiness follows queue-proxy's aggressive probe: the function's ``/health/readiness``
(kn func) or a TCP connect, every 50 ms, and at once when the process says it listens.
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

    @property
    def exited(self) -> asyncio.Future[int]:
        """Resolves with the exit code (negative: killed by that signal)."""
        return self.child.exited

    def __repr__(self) -> str:
        return f"Instance(pid={self.pid}, port={self.port}, state={self.state.value})"

    async def wait_ready(self, readiness_path: str, deadline: float) -> bool:
        """Probe until ready (True), or until the process exits or ``deadline`` passes.

        The port accepts connections before the process serves (they wait in the
        kernel's backlog), so an HTTP probe is sent at once and answered as soon as the
        process serves. A TCP connect would succeed too early that way: it is tried once
        the process said it listens. A failed probe is retried after 50 ms, or as soon
        as that word comes if it has not yet.
        """
        listening = self.child.listening
        while time.monotonic() < deadline:
            if self.exited.done():
                return False
            if not readiness_path and listening is not None and not listening.done():
                await self._until(listening, deadline - time.monotonic())
                continue
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
            if listening is not None and not listening.done():
                await self._until(listening, PROBE_INTERVAL)
            else:
                await asyncio.sleep(PROBE_INTERVAL)
        return False

    async def _until(self, listening: asyncio.Future[None], timeout: float) -> None:
        """Wait until the process says it listens, exits, or ``timeout`` passes."""
        racing: set[asyncio.Future[Any]] = {listening, self.exited}
        await asyncio.wait(racing, timeout=max(timeout, 0.0), return_when="FIRST_COMPLETED")

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
