"""Spans: parentage, status, and how finished spans reach the store."""

from __future__ import annotations

import itertools
from pathlib import Path

from bulut.observability.sampling import TraceBudget
from bulut.observability.spans import FinishedSpan, SpanStore
from bulut.observability.tracer import Tracer
from bulut.observability.tracing import parse_traceparent


def clock() -> itertools.count[int]:
    return itertools.count(1_000_000_000, 1_000_000)


def test_a_span_started_under_a_traceparent_joins_that_trace() -> None:
    tracer = Tracer(clock_ns=clock().__next__)
    root = tracer.start_span("router", None, {"kn.revision.name": "orders-00001"}, kind="server")
    child = tracer.start_span("instance", root.traceparent)
    child.end()
    root.end(status_code=200)
    first, second = tracer.take()
    assert first.name == "instance" and first.parent_id == root.context.span_id
    assert second.trace_id == first.trace_id and second.parent_id == ""
    assert second.kind == "server" and second.attributes["http.response.status_code"] == 200
    assert second.duration_ms == 3.0


def test_a_server_error_status_marks_the_span_failed_and_ending_twice_is_harmless() -> None:
    tracer = Tracer()
    span = tracer.start_span("delivery")
    span.end(status_code=503)
    span.end()
    (finished,) = tracer.take()
    assert finished.error


def test_a_disabled_tracer_hands_out_valid_contexts_but_keeps_nothing() -> None:
    tracer = Tracer.disabled()
    span = tracer.start_span("router")
    span.end()
    assert len(span.trace_id) == 32 and tracer.take() == []


def test_an_unsampled_parent_is_not_recorded() -> None:
    tracer = Tracer()
    tracer.start_span("x", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").end()
    assert tracer.take() == []


def test_a_context_past_the_trace_budget_is_passed_on_unsampled_and_needs_no_span() -> None:
    tracer = Tracer(budget=TraceBudget(1, clock=lambda: 0.0))
    first = tracer.next_context(None)
    second = tracer.next_context(None)
    assert tracer.records(first) and not tracer.records(second)
    assert second.traceparent.endswith("-00") and len(second.trace_id) == 32
    tracer.span_in(first, "router", None, {"kn.revision.name": "r"}, kind="server").end()
    (finished,) = tracer.take()
    assert finished.trace_id == first.trace_id and finished.span_id == first.span_id


def test_a_context_under_a_parent_is_a_new_span_of_its_trace() -> None:
    tracer = Tracer.disabled()
    parent = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    context = tracer.next_context(parent)
    assert parent is not None and context.trace_id == parent.trace_id
    assert context.span_id != parent.span_id and not tracer.records(context)


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[FinishedSpan]] = []
        self.closed = False

    async def export(self, spans: list[FinishedSpan]) -> None:
        self.batches.append(spans)

    async def aclose(self) -> None:
        self.closed = True


async def test_flushing_writes_one_batch_to_the_store_and_the_exporter(tmp_path: Path) -> None:
    recorder = Recorder()
    tracer = Tracer(store=SpanStore(tmp_path / "traces.db"), exporter=recorder)
    for name in ("a", "b", "c"):
        tracer.start_span(name).end()
    assert await tracer.flush() == 3
    assert await tracer.flush() == 0
    assert [len(b) for b in recorder.batches] == [3]
    assert tracer.store is not None and tracer.store.count() == 3
    await tracer.aclose()
    assert recorder.closed
