"""Instances-over-time charts as inline SVG."""

from __future__ import annotations

import re

from bulut.dashboard.charts import scale_chart
from bulut.dashboard.live import ScalePoint


def polyline(svg: str, css: str) -> list[tuple[float, float]]:
    match = re.search(rf'<polyline class="{css}" points="([^"]+)"', svg)
    assert match is not None
    return [tuple(map(float, p.split(","))) for p in match.group(1).split()]  # type: ignore[misc]


def test_the_chart_is_a_step_line_ending_at_now_with_its_facts_as_data_attributes() -> None:
    points = [ScalePoint(100.0, 0, 0), ScalePoint(160.0, 2, 2), ScalePoint(190.0, 0, 0)]
    svg = scale_chart("orders-00001", points, now=220.0, window=120.0)
    assert 'data-actual="0"' in svg and 'data-peak="2"' in svg and 'data-points="3"' in svg
    actual = polyline(svg, "actual")
    ys = [y for _, y in actual]
    assert min(ys) < max(ys)  # it went up and came back
    assert actual[0][0] == 28.0 and actual[-1][0] == 552.0  # window start → now
    assert len(actual) == 6


def test_points_older_than_the_window_set_the_starting_value() -> None:
    svg = scale_chart("r", [ScalePoint(0.0, 3, 3)], now=1000.0, window=60.0)
    line = polyline(svg, "actual")
    assert len(line) == 2 and line[0][1] == line[1][1] == 10.0  # flat at the top (3 of 3)


def test_revision_names_are_escaped() -> None:
    svg = scale_chart('<script>"', [], now=1.0)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
