"""ConcurrencyTracker: time-averaged in-flight per 1 s bucket, request rate, window averages."""

from __future__ import annotations

import pytest

from bulut.serving.autoscaler.decider import WindowAverages
from bulut.serving.autoscaler.metrics import ConcurrencyTracker
from tests.unit.serving.autoscaler.conftest import FakeClock


def test_no_request_ever_is_no_data(clock: FakeClock) -> None:
    assert ConcurrencyTracker(clock).averages(6, 1) is None


def test_a_request_in_flight_for_three_seconds_averages_one(clock: FakeClock) -> None:
    tracker = ConcurrencyTracker(clock)
    tracker.started()
    clock.advance(3.0)
    assert tracker.averages(6, 1) == WindowAverages(stable=1.0, panic=1.0)
    assert tracker.in_flight == 1


def test_half_a_second_in_flight_counts_as_half(clock: FakeClock) -> None:
    tracker = ConcurrencyTracker(clock)
    tracker.started()
    clock.advance(0.5)
    tracker.finished()
    clock.advance(0.5)
    assert tracker.averages(6, 1) == WindowAverages(stable=0.5, panic=0.0)


def test_a_request_that_just_arrived_counts_at_once() -> None:
    clock = FakeClock(20.5)
    tracker = ConcurrencyTracker(clock)
    tracker.started()
    averages = tracker.averages(60, 6)
    assert averages is not None
    assert averages.stable == pytest.approx(0.5)
    assert averages.panic == pytest.approx(0.5)


def test_concurrent_requests_add_up(clock: FakeClock) -> None:
    tracker = ConcurrencyTracker(clock)
    tracker.started()
    tracker.started()
    clock.advance(2.0)
    assert tracker.averages(6, 1) == WindowAverages(stable=2.0, panic=2.0)


def test_rps_counts_requests_started_per_second() -> None:
    clock = FakeClock(30.0)
    tracker = ConcurrencyTracker(clock)
    for _ in range(3):
        tracker.started()
        tracker.finished()
    clock.advance(0.9)
    assert tracker.averages(6, 1, metric="rps") == WindowAverages(stable=3.0, panic=3.0)


def test_finished_never_goes_below_zero(clock: FakeClock) -> None:
    tracker = ConcurrencyTracker(clock)
    tracker.finished()
    assert tracker.in_flight == 0


def test_ready_instances_report_zeros_every_second() -> None:
    clock = FakeClock(0.0)
    tracker = ConcurrencyTracker(clock)
    tracker.observe_instances(1)
    clock.advance(1.0)
    tracker.started()
    clock.advance(1.0)
    tracker.finished()
    clock.advance(3.0)
    averages = tracker.averages(6, 1)
    assert averages is not None
    assert averages.stable == pytest.approx(1 / 6)
    assert averages.panic == 0.0


def test_idle_instances_keep_reporting_zero_after_the_window() -> None:
    clock = FakeClock(0.0)
    tracker = ConcurrencyTracker(clock)
    tracker.observe_instances(1)
    tracker.started()
    clock.advance(1.0)
    tracker.finished()
    clock.advance(60.0)
    assert tracker.averages(6, 1) == WindowAverages(stable=0.0, panic=0.0)


def test_without_instances_data_expires_after_the_stable_window() -> None:
    clock = FakeClock(0.0)
    tracker = ConcurrencyTracker(clock)
    tracker.started()
    clock.advance(1.0)
    tracker.finished()
    clock.advance(6.0)
    assert tracker.averages(6, 1) == WindowAverages(stable=0.0, panic=0.0)
    clock.advance(1.0)
    assert tracker.averages(6, 1) is None


def test_weighted_exponential_weights_recent_seconds_most() -> None:
    clock = FakeClock(0.0)
    tracker = ConcurrencyTracker(clock)
    tracker.started()
    clock.advance(1.0)
    tracker.finished()
    clock.advance(4.0)
    tracker.observe_instances(1)
    linear = tracker.averages(6, 6)
    weighted = tracker.averages(6, 6, algorithm="weighted-exponential")
    assert linear is not None and weighted is not None
    assert linear.stable == pytest.approx(1 / 6, abs=1e-6)
    assert 0 < weighted.stable < linear.stable


def test_a_request_arriving_late_in_a_second_still_counts_in_an_hour_window() -> None:
    clock = FakeClock(0.0)
    tracker = ConcurrencyTracker(clock)
    tracker.observe_instances(1)
    clock.advance(3599.9999)
    tracker.started()
    averages = tracker.averages(3600, 360)
    assert averages is not None
    assert averages.stable > 0 and averages.panic > 0


def test_long_requests_are_accounted_without_unbounded_history() -> None:
    clock = FakeClock(0.0)
    tracker = ConcurrencyTracker(clock)
    tracker.started()
    clock.advance(10_000.0)
    assert tracker.averages(3600, 360) == WindowAverages(stable=1.0, panic=1.0)


def test_what_another_proxy_carries_adds_to_the_gateways_own(clock: FakeClock) -> None:
    tracker = ConcurrencyTracker(clock)
    tracker.started()  # one request through the gateway (the activator)
    tracker.observe_outside(3, started=3)  # HAProxy reports three on the warm path
    clock.advance(2.0)
    tracker.observe_outside(1, started=0)  # two of them finished
    clock.advance(2.0)

    assert tracker.in_flight == 2
    # buckets 1000-1001 at four in flight, 1002-1004 at two (the current one projected)
    assert tracker.averages(5, 2) == WindowAverages(stable=2.8, panic=2.0)
    assert tracker.averages(4, 4, metric="rps") is not None
