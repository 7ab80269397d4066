"""A trace budget over a real broker: traces past it are left out whole, the others kept whole."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from bulut.observability.sampling import TraceBudget
from bulut.observability.tracer import Tracer
from bulut.observability.tracing import parse_traceparent
from tests.support.eventing import binary_headers, broker, eventing_runtime, subscriber, trigger

pytestmark = pytest.mark.integration


class StoppedClock:
    """Time stands still: the budget never refills during the test."""

    def __call__(self) -> float:
        return 1000.0


async def test_events_past_the_budget_are_delivered_untraced_and_recorded_traces_are_whole(
    tmp_path: Path,
) -> None:
    async with subscriber() as sub:
        resources = [broker(), trigger("all", sub.url), trigger("again", sub.url)]
        async with eventing_runtime(tmp_path, resources) as rt, httpx.AsyncClient() as http:
            tracer = Tracer(service="test", budget=TraceBudget(3, clock=StoppedClock()))
            rt.eventing.ingress.tracer = tracer
            rt.eventing.deliverer.tracer = tracer
            for n in range(10):
                answer = await http.post(
                    rt.broker_url, headers=binary_headers(f"e{n}"), content=b"{}"
                )
                assert answer.status_code == 202
            received = await sub.wait_for(20)
            await rt.settled()
            spans = tracer.take()

    by_trace: dict[str, list[str]] = defaultdict(list)
    for span in spans:
        by_trace[span.trace_id].append(span.name)
    assert len(by_trace) == 3  # the budget's three traces, each with its three spans
    for names in by_trace.values():
        assert sorted(names) == [
            "broker.ingress default/default",
            "trigger.delivery default/again",
            "trigger.delivery default/all",
        ]
    recorded = 0
    for delivery in received:  # every event still carries a context; the flag says which
        created = parse_traceparent(delivery.ce["traceparent"])
        hop = parse_traceparent(delivery.headers["traceparent"])
        assert created is not None and hop is not None
        assert hop.trace_id == created.trace_id and hop.sampled == created.sampled
        assert created.sampled == (created.trace_id in by_trace)
        recorded += created.sampled
    assert recorded == 6  # three events, each delivered to both triggers
