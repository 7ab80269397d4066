"""A trace's spans as a tree."""

from __future__ import annotations

from bulut.observability.spans import FinishedSpan
from bulut.observability.trees import span_tree, trace_bounds


def span(span_id: str, parent: str, start: int) -> FinishedSpan:
    return FinishedSpan("t" * 32, span_id, parent, span_id, start, start + 10)


def test_children_hang_under_their_parents_and_orphans_become_roots() -> None:
    spans = [span("c", "a", 3), span("a", "", 1), span("b", "a", 2), span("x", "gone", 4)]
    roots = span_tree(spans)
    assert [r.span.span_id for r in roots] == ["a", "x"]
    assert [(d, s.span_id) for d, s in roots[0].walk()] == [(0, "a"), (1, "b"), (1, "c")]
    assert trace_bounds(spans) == (1, 14)
    assert trace_bounds([]) == (0, 0)
