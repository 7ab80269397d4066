"""Making spans: ``Tracer.start_span(...)`` → :class:`Span` → ``span.end()``.

Ending a span only appends it to a list (cheap enough for the request path); the
tracer's ``run()`` loop flushes that list every ``flush_interval`` to the span store (one
SQLite transaction, off the event loop) and, when configured, to an OTLP exporter. A
disabled tracer still hands out spans (so call sites need no branches) but keeps nothing.
With a :class:`~.sampling.TraceBudget` only so many new traces a second are recorded; a span
follows its parent's ``sampled`` flag, so a trace is recorded whole or not at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from .sampling import TraceBudget
from .spans import AttributeValue, FinishedSpan, SpanKind, SpanStore
from .tracing import SAMPLED, TraceContext, child_of, new_root, parse_traceparent

logger = logging.getLogger(__name__)

DEFAULT_FLUSH_INTERVAL = 0.5
MAX_PENDING = 50_000


class SpanExporter(Protocol):
    """Where finished spans go besides the local store (e.g. :class:`~.otlp.OTLPExporter`)."""

    async def export(self, spans: list[FinishedSpan]) -> None:
        """Send one batch; must not raise for transport failures."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class Span:
    """A span in progress. ``end()`` it exactly once (further calls are ignored)."""

    __slots__ = ("_tracer", "attributes", "context", "ended", "kind", "name", "parent_id", "start")

    def __init__(
        self,
        tracer: Tracer,
        name: str,
        context: TraceContext,
        parent_id: str,
        kind: SpanKind,
        attributes: dict[str, AttributeValue],
        start: int,
    ) -> None:
        self._tracer = tracer
        self.name = name
        self.context = context
        self.parent_id = parent_id
        self.kind = kind
        self.attributes = attributes
        self.start = start
        self.ended = False

    @property
    def recording(self) -> bool:
        """Whether this span will be kept (tracing on and its trace sampled): attributes
        that cost something to build are worth adding only then."""
        return self._tracer.enabled and self.context.sampled

    @property
    def traceparent(self) -> str:
        """This span as the parent of the next hop (a ``traceparent`` value)."""
        return self.context.traceparent

    @property
    def trace_id(self) -> str:
        """The trace this span belongs to."""
        return self.context.trace_id

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Add or replace one attribute."""
        self.attributes[key] = value

    def end(
        self, *, error: bool = False, message: str = "", status_code: int | None = None
    ) -> None:
        """Finish the span; an HTTP ``status_code`` ≥ 500 marks it failed."""
        if self.ended:
            return
        self.ended = True
        if status_code is not None:
            self.attributes["http.response.status_code"] = status_code
            error = error or status_code >= 500
        self._tracer._finish(self, error, message)


class Tracer:
    """Creates spans and ships the finished ones to the store and exporter."""

    def __init__(
        self,
        *,
        service: str = "bulut",
        store: SpanStore | None = None,
        exporter: SpanExporter | None = None,
        enabled: bool = True,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        clock_ns: Callable[[], int] = time.time_ns,
        budget: TraceBudget | None = None,
    ) -> None:
        self.service = service
        self.budget = budget  # None: every new trace is recorded
        self.store = store
        self.exporter = exporter
        self.enabled = enabled
        self.flush_interval = flush_interval
        self._clock_ns = clock_ns
        self._pending: list[FinishedSpan] = []
        self.dropped = 0

    @classmethod
    def disabled(cls) -> Tracer:
        """A tracer that records nothing (spans still carry valid contexts)."""
        return cls(enabled=False)

    def start_span(
        self,
        name: str,
        parent: TraceContext | str | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
        *,
        kind: SpanKind = "internal",
    ) -> Span:
        """Start a span under ``parent`` (a context or a ``traceparent`` value; None = root,
        recorded when the budget allows; a child follows its parent's ``sampled`` flag)."""
        if isinstance(parent, str):
            parent = parse_traceparent(parent)
        context = self.next_context(parent)
        return self.span_in(context, name, parent, attributes, kind=kind)

    def next_context(self, parent: TraceContext | None) -> TraceContext:
        """The context a span started under ``parent`` gets: a new root (sampled when the
        budget allows) or a child following its parent's ``sampled`` flag.

        With :meth:`records` and :meth:`span_in` it is :meth:`start_span` in two steps, for a
        hot path that needs the context for the next hop on every request but a
        :class:`Span` only when the trace is recorded."""
        if parent is None:
            budget = self.budget
            return new_root(budget is None or not self.enabled or budget.take())
        return child_of(parent)

    def records(self, context: TraceContext) -> bool:
        """Whether a span in ``context`` would be kept (tracing on and the trace sampled)."""
        return self.enabled and bool(context.flags & SAMPLED)

    def span_in(
        self,
        context: TraceContext,
        name: str,
        parent: TraceContext | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
        *,
        kind: SpanKind = "internal",
    ) -> Span:
        """A span with ``context`` (from :meth:`next_context`) under ``parent``, started now."""
        return Span(
            self,
            name,
            context,
            parent.span_id if parent is not None else "",
            kind,
            dict(attributes) if attributes else {},
            self._clock_ns(),
        )

    def _finish(self, span: Span, error: bool, message: str) -> None:
        if not self.enabled or not span.context.sampled:
            return
        if len(self._pending) >= MAX_PENDING:
            self.dropped += 1
            return
        self._pending.append(
            FinishedSpan(
                trace_id=span.context.trace_id,
                span_id=span.context.span_id,
                parent_id=span.parent_id,
                name=span.name,
                start_ns=span.start,
                end_ns=self._clock_ns(),
                kind=span.kind,
                service=self.service,
                error=error,
                status_message=message,
                attributes=span.attributes,
            )
        )

    def take(self) -> list[FinishedSpan]:
        """The spans ended since the last call."""
        batch, self._pending = self._pending, []
        return batch

    async def flush(self) -> int:
        """Write pending spans to the store and the exporter; how many there were."""
        batch = self.take()
        if not batch:
            return 0
        if self.store is not None:
            await asyncio.to_thread(self.store.write, batch)
        if self.exporter is not None:
            await self.exporter.export(batch)
        return len(batch)

    async def run(self) -> None:
        """Flush every ``flush_interval`` until cancelled (then flush what is left)."""
        try:
            while True:
                await asyncio.sleep(self.flush_interval)
                try:
                    await self.flush()
                except Exception as error:  # a broken store must not stop the platform
                    logger.warning("trace flush failed: %s", error)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.flush())

    async def aclose(self) -> None:
        """Flush, then close the exporter and the store."""
        await self.flush()
        if self.exporter is not None:
            await self.exporter.aclose()
        if self.store is not None:
            self.store.close()
