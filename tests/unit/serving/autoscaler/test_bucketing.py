"""Window averages against Knative's bucketing_test.go worked examples (1 s buckets)."""

from __future__ import annotations

import pytest

from bulut.serving.autoscaler.bucketing import (
    linear_average,
    smoothing_coefficient,
    weighted_average,
    window_average,
)

RAMP = {0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0, 4: 5.0}

LINEAR_CASES = [
    ("first write counts as the whole window", {0: 1.0}, 0.0, 1.0),
    ("full window of 1 to 5 averages 3", RAMP, 4.0, 3.0),
    ("now lagging behind still averages 3", RAMP, 3.6, 3.0),
    ("a short hole shrinks the window", RAMP, 6.0, (15.0 - 1 - 2) / (5 - 2)),
    ("a hole of exactly the window gives 0", RAMP, 9.0, 0.0),
    ("a write after a hole counts the zeros", {**RAMP, 6: 91.0}, 6.0, (15.0 - 1 - 2 + 91) / 5),
    ("a write a minute later starts over", {**RAMP, 6: 91.0, 60: 1984.0}, 60.0, 1984.0),
    ("an earlier write moves first write", {6: 91.0, 57: 4.0, 60: 1984.0}, 60.0, 1988.0 / 4),
    ("one more second fills the window", {57: 4.0, 60: 1984.0, 61: 5.0}, 61.0, 1993.0 / 5),
    ("zero reports are writes", {0: 0.0, 1: 0.0, 2: 0.0, 3: 0.0, 4: 10.0}, 4.0, 2.0),
]


@pytest.mark.parametrize(
    ("values", "now", "want"),
    [case[1:] for case in LINEAR_CASES],
    ids=[case[0] for case in LINEAR_CASES],
)
def test_linear_average_matches_knative(values: dict[int, float], now: float, want: float) -> None:
    assert linear_average(values, now, 5.0) == pytest.approx(want)


@pytest.mark.parametrize("algorithm", ["linear", "weighted-exponential"])
def test_no_write_for_more_than_a_window_is_no_data(algorithm: str) -> None:
    assert window_average(RAMP, 10.0, 5.0, algorithm) is None
    assert window_average({}, 10.0, 5.0, algorithm) is None


def test_weighted_average_favours_recent_buckets() -> None:
    older_high = {0: 10.0, 1: 10.0, 2: 5.0, 3: 5.0}
    newer_high = {0: 5.0, 1: 5.0, 2: 10.0, 3: 10.0}
    assert weighted_average(older_high, 3.0, 4.0, coefficient=0.6) == pytest.approx(5.544)
    assert weighted_average(newer_high, 3.0, 4.0, coefficient=0.6) == pytest.approx(9.072)


def test_weighted_average_decays_missing_recent_buckets() -> None:
    got = weighted_average({0: 10.0}, 2.0, 4.0, coefficient=0.5)
    assert got == pytest.approx(10.0 * 0.5 * 0.5**2)


@pytest.mark.parametrize(
    ("buckets", "want"), [(60, 0.2), (6, 1 - 0.0001 ** (1 / 6)), (4, 0.9), (1, 0.9999)]
)
def test_smoothing_coefficient_reaches_the_weight_precision(buckets: int, want: float) -> None:
    assert smoothing_coefficient(buckets) == pytest.approx(want)
