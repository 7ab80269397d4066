"""A trace's spans as a tree (pure): what ``bulut trace`` prints."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .spans import FinishedSpan


@dataclass
class SpanNode:
    """One span and the spans started under it, oldest first."""

    span: FinishedSpan
    children: list[SpanNode] = field(default_factory=list)

    def walk(self, depth: int = 0) -> Iterable[tuple[int, FinishedSpan]]:
        """(depth, span) for this node and everything under it, depth first."""
        yield depth, self.span
        for child in self.children:
            yield from child.walk(depth + 1)


def span_tree(spans: Iterable[FinishedSpan]) -> list[SpanNode]:
    """Roots of the trace: spans whose parent is absent (missing parents become roots)."""
    nodes = {s.span_id: SpanNode(s) for s in sorted(spans, key=lambda s: s.start_ns)}
    roots: list[SpanNode] = []
    for node in nodes.values():
        parent = nodes.get(node.span.parent_id)
        if parent is None or parent is node:
            roots.append(node)
        else:
            parent.children.append(node)
    return roots


def trace_bounds(spans: Iterable[FinishedSpan]) -> tuple[int, int]:
    """(earliest start, latest end) in nanoseconds; (0, 0) for no spans."""
    items = list(spans)
    if not items:
        return 0, 0
    return min(s.start_ns for s in items), max(s.end_ns for s in items)
