"""Instances over time as an inline SVG step chart (pure; no JavaScript library)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from .live import ScalePoint

WIDTH, HEIGHT = 560, 120
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 28, 8, 10, 18


def _steps(points: Sequence[ScalePoint], field: str, now: float, window: float, top: int) -> str:
    """Polyline points of a step function over the last ``window`` seconds."""
    start = now - window
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(t: float) -> float:
        return PAD_LEFT + plot_w * (min(max(t, start), now) - start) / window

    def y(v: int) -> float:
        return PAD_TOP + plot_h * (1 - v / top)

    value = 0
    for point in points:  # the value in force at the window's start
        if point.at <= start:
            value = getattr(point, field)
    coords = [(x(start), y(value))]
    for point in points:
        if point.at <= start:
            continue
        new = getattr(point, field)
        coords.append((x(point.at), y(value)))
        coords.append((x(point.at), y(new)))
        value = new
    coords.append((x(now), y(value)))
    return " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)


def scale_chart(
    revision: str, points: Sequence[ScalePoint], *, now: float, window: float = 120.0
) -> str:
    """An SVG of actual (solid) and desired (dashed) instances of one revision."""
    last = points[-1] if points else ScalePoint(now, 0, 0)
    peak = max((max(p.actual, p.desired) for p in points), default=0)
    top = max(2, peak)
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    grid = []
    for level in sorted({0, top // 2, top}):
        gy = PAD_TOP + plot_h * (1 - level / top)
        grid.append(
            f'<line x1="{PAD_LEFT}" y1="{gy:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{gy:.1f}"'
            f' class="grid"/><text x="{PAD_LEFT - 6}" y="{gy + 4:.1f}" class="axis"'
            f' text-anchor="end">{level}</text>'
        )
    actual = _steps(points, "actual", now, window, top)
    desired = _steps(points, "desired", now, window, top)
    name = escape(revision)
    return (
        f'<svg class="scale-chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}"'
        f' data-revision="{name}" data-actual="{last.actual}" data-desired="{last.desired}"'
        f' data-peak="{peak}" data-points="{len(points)}"'
        f' aria-label="instances of {name}: {last.actual} actual, {last.desired} desired">'
        + "".join(grid)
        + f'<polyline class="desired" points="{desired}"/>'
        f'<polyline class="actual" points="{actual}"/>'
        f'<text x="{PAD_LEFT}" y="{HEIGHT - 4}" class="axis">-{int(window)} s</text>'
        f'<text x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 4}" class="axis"'
        f' text-anchor="end">now</text></svg>'
    )
