"""New traces within a budget: parent-based below the roots, so a trace is whole or absent."""

from __future__ import annotations

from bulut.observability.sampling import TraceBudget
from bulut.observability.tracer import Tracer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_budget_records_one_seconds_worth_at_once_then_what_time_adds() -> None:
    clock = Clock()
    budget = TraceBudget(3, clock=clock)
    assert [budget.take() for _ in range(5)] == [True, True, True, False, False]
    clock.now += 0.5  # half a second: one and a half places
    assert [budget.take() for _ in range(2)] == [True, False]
    clock.now += 60  # idle for a minute: still one second's worth, not sixty
    assert sum(budget.take() for _ in range(10)) == 3


def test_a_fractional_budget_records_a_trace_every_few_seconds() -> None:
    clock = Clock()
    budget = TraceBudget(0.5, clock=clock)
    assert budget.take() is True
    assert budget.take() is False
    clock.now += 2
    assert budget.take() is True


def test_traces_past_the_budget_are_left_out_whole_and_those_within_are_kept_whole() -> None:
    clock = Clock()
    tracer = Tracer(budget=TraceBudget(2, clock=clock))
    roots = [tracer.start_span(f"broker.ingress {n}") for n in range(4)]
    for root in roots:  # each hop below joins its root's trace with the root's flag
        delivery = tracer.start_span("trigger.delivery", root.context)
        router = tracer.start_span("router audit-00001", delivery.traceparent)
        for span in (router, delivery, root):
            span.end()
    kept = tracer.take()
    assert [root.context.sampled for root in roots] == [True, True, False, False]
    assert {span.trace_id for span in kept} == {roots[0].trace_id, roots[1].trace_id}
    assert len(kept) == 6  # three spans of each recorded trace, none of the others
    assert roots[3].traceparent.endswith("-00")  # the next hop is told not to record


def test_a_caller_that_records_is_followed_whatever_the_budget() -> None:
    tracer = Tracer(budget=TraceBudget(1, clock=Clock()))
    tracer.start_span("first root").end()
    caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    tracer.start_span("router", caller).end()
    assert [span.name for span in tracer.take()] == ["first root", "router"]


def test_without_a_budget_every_trace_is_recorded() -> None:
    tracer = Tracer()
    for _ in range(500):
        tracer.start_span("root").end()
    assert len(tracer.take()) == 500


def test_a_disabled_tracer_still_tells_the_next_hop_to_record() -> None:
    tracer = Tracer(enabled=False, budget=TraceBudget(1, clock=Clock()))
    spans = [tracer.start_span("root") for _ in range(3)]
    assert all(span.context.sampled for span in spans)


def test_only_a_span_that_will_be_kept_is_recording() -> None:
    tracer = Tracer(budget=TraceBudget(1, clock=Clock()))
    kept, left_out = tracer.start_span("first"), tracer.start_span("second")
    assert (kept.recording, left_out.recording) == (True, False)
    assert Tracer.disabled().start_span("x").recording is False
