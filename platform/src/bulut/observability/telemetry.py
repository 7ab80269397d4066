"""One platform's metrics and tracing, built and stopped together (what `bulut up` holds).

``Telemetry.create(state_dir)`` makes a fresh registry, a tracer writing to
``state_dir/traces.db`` and, only when ``OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`` is set, an
OTLP exporter. ``start()`` runs the span flush loop; ``aclose()`` flushes and closes.
``recording=False`` keeps the registry (the gauges read at scrape time) but hands the planes
no recorders (:attr:`Telemetry.recorders` is None), so the per-request and per-event metrics
cost nothing: what ``BULUT_METRICS=false`` does, to measure that cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .metrics import PlatformMetrics
from .otlp import OTLPExporter
from .sampling import TraceBudget
from .spans import TRACES_FILE, SpanStore
from .tracer import Tracer


@dataclass
class Telemetry:
    """Metrics (``/metrics``) and the tracer of one platform."""

    metrics: PlatformMetrics
    tracer: Tracer
    recording: bool = True
    _task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    @classmethod
    def create(
        cls,
        state_dir: Path,
        *,
        tracing: bool = True,
        metrics: bool = True,
        traces_per_second: float = 0.0,
        environ: Mapping[str, str] | None = None,
    ) -> Telemetry:
        """A registry, and a tracer storing under ``state_dir`` (exporting when configured),
        recording at most ``traces_per_second`` new traces a second (0: every one)."""
        environ = os.environ if environ is None else environ
        tracer = Tracer(
            store=SpanStore(state_dir / TRACES_FILE) if tracing else None,
            exporter=OTLPExporter.from_environ(environ) if tracing else None,
            enabled=tracing,
            budget=TraceBudget(traces_per_second) if traces_per_second > 0 else None,
        )
        return cls(PlatformMetrics(), tracer, recording=metrics)

    @property
    def recorders(self) -> PlatformMetrics | None:
        """What the planes record per request and per event into (None: metrics off)."""
        return self.metrics if self.recording else None

    def start(self) -> None:
        """Start flushing finished spans (in the running loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.tracer.run(), name="tracer")

    async def aclose(self) -> None:
        """Stop the flush loop, flush what is left, close the store and exporter."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.tracer.aclose()
