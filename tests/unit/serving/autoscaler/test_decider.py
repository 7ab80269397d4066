"""The pure KPA decider against Knative's autoscaler_test.go cases and §1.5's worked examples.

Knative's fixture: target T, total T / 0.75, panic threshold 2.0, max scale up/down rate
10, stable window 60 s, reachable. EBC values are floor(ready × total − TBC − panic).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from bulut.serving.autoscaler.decider import (
    PROXY,
    SERVE,
    DeciderSpec,
    DeciderState,
    WindowAverages,
    decide,
)


def knative_spec(target: float, tbc: float, **changes: object) -> DeciderSpec:
    """The DeciderSpec of Knative's newTestAutoscaler(target, tbc)."""
    spec = DeciderSpec(
        target=target,
        total=target / 0.75,
        target_burst_capacity=tbc,
        panic_threshold=2.0,
        max_scale_up_rate=10.0,
        max_scale_down_rate=10.0,
        stable_window=60.0,
        reachable=True,
    )
    return replace(spec, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Case:
    """One row of Knative's TestAutoscalerScale table."""

    name: str
    spec: DeciderSpec
    stable: float
    panic: float
    ready: int
    want: int
    ebc: float
    panic_pods: int | None = None


CASES = [
    Case("no data at zero keeps zero", knative_spec(10, 100), 0, 0, 1, 0, -87),
    Case("unlimited tbc reports ebc -1", knative_spec(181, -1), 21, 26, 1, 1, -1),
    Case("zero tbc reports ebc 0", knative_spec(10, 0), 50, 49, 1, 5, 0),
    Case("stable mode no change", knative_spec(10, 100), 50, 50, 1, 5, -137),
    Case("stable mode already scaled", knative_spec(10, 100), 50, 50, 5, 5, -84),
    Case("panic uses stable when larger", knative_spec(1, 100), 50, 30, 5, 50, -124, 5),
    Case("panic uses panic when larger", knative_spec(1, 100), 20, 30, 5, 30, -124, 5),
    Case(
        "small scale up rate still adds a pod",
        knative_spec(1, 1982, max_scale_up_rate=1.1),
        3,
        3.1,
        2,
        3,
        -1983,
    ),
    Case(
        "small scale down rate removes a tenth",
        knative_spec(10, 1982, max_scale_down_rate=1.1),
        1,
        1,
        100,
        90,
        -650,
    ),
    Case(
        "unreachable revision ignores the scale down rate",
        knative_spec(10, 1982, max_scale_down_rate=1.1, reachable=False),
        1,
        1,
        100,
        1,
        -650,
    ),
    Case("panic doubles the pod count", knative_spec(10, 84), 50, 100, 1, 10, -171),
    Case("scale up is capped at ten times", knative_spec(10, 61), 1000, 1001, 1, 10, -1049),
    Case("scale up again ten times", knative_spec(10, 61), 1000, 1001, 10, 100, -929),
    Case("scale down is floored at a tenth", knative_spec(10, 61), 1, 1, 100, 10, 1271),
    Case("scale down again a tenth", knative_spec(10, 61), 1, 1, 10, 1, 71),
    Case("no ready pods counts as one", knative_spec(10, 81), 1000, 888, 0, 10, -969),
    Case("stable average 1 keeps one pod", knative_spec(10, 75), 1, 0, 1, 1, -62),
    Case("no traffic scales to zero", knative_spec(10, 75), 0, 0, 1, 0, -62),
    Case("rps metric scales the same way", knative_spec(10, 101, metric="rps"), 50, 50, 1, 5, -138),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_decides_like_knative_autoscaler_scale(case: Case) -> None:
    now = 1000.0
    state = DeciderState()
    if case.panic_pods is not None:
        state.panic_time, state.max_panic_pods = now - 5, case.panic_pods
    decision = decide(WindowAverages(case.stable, case.panic), case.spec, state, case.ready, now)
    assert (decision.desired, decision.excess_burst_capacity) == (case.want, case.ebc)


def test_no_data_means_unknown_desired_scale() -> None:
    decision = decide(None, knative_spec(10, 100), DeciderState(), 1, 0.0)
    assert decision.desired == -1


def test_activation_scale_lifts_a_nonzero_want() -> None:
    spec, state = knative_spec(10, 75, activation_scale=2), DeciderState()
    assert decide(WindowAverages(0, 0), spec, state, 1, 0.0).desired == 0
    assert decide(WindowAverages(1, 0), spec, state, 1, 0.0).desired == 2


def test_panics_then_unpanics_after_the_stable_window() -> None:
    spec, state = knative_spec(10, 93), DeciderState()
    assert decide(WindowAverages(100, 100), spec, state, 1, 0.0).desired == 10
    assert decide(WindowAverages(100, 1000), spec, state, 10, 100.0).desired == 100
    assert decide(WindowAverages(1, 1), spec, state, 10, 130.0).desired == 100
    decision = decide(WindowAverages(1, 1), spec, state, 10, 161.0)
    assert (decision.desired, decision.panicking) == (1, False)


def test_unpanics_after_a_slow_increase() -> None:
    spec, state = knative_spec(1, 98), DeciderState()
    assert decide(WindowAverages(11, 25), spec, state, 10, 0.0).desired == 25
    assert decide(WindowAverages(30, 41), spec, state, 40, 30.0).desired == 41
    assert state.panic_time == 0.0
    decision = decide(WindowAverages(50, 56), spec, state, 55, 62.0)
    assert decision.desired == 50
    assert state.panic_time is None


def test_a_surge_extends_the_panic_window() -> None:
    spec, state = knative_spec(1, 98), DeciderState()
    decide(WindowAverages(11, 25), spec, state, 10, 0.0)
    assert decide(WindowAverages(30, 80), spec, state, 40, 30.0).desired == 80
    assert state.panic_time == 30.0


def test_tracks_exponential_growth_in_panic() -> None:
    spec, state = knative_spec(1, 101), DeciderState()
    steps = [(1, 6, 6), (6, 36, 36), (36, 216, 216), (216, 1296, 1296), (1296, 1296, 1296)]
    for second, (ready, load, want) in enumerate(steps):
        decision = decide(WindowAverages(load, load), spec, state, ready, float(second))
        assert decision.desired == want


def test_update_target_takes_effect_on_the_next_tick() -> None:
    state = DeciderState()
    assert decide(WindowAverages(100, 101), knative_spec(10, 77), state, 1, 0.0).desired == 10
    updated = knative_spec(1, 71)
    assert decide(WindowAverages(100, 101), updated, state, 10, 2.0).desired == 100


DELAY = knative_spec(10, 0, max_scale_down_rate=10.0, panic_threshold=100.0, scale_down_delay=300)


def test_scale_down_delay_holds_the_max_until_it_scrolls_out() -> None:
    state = DeciderState()
    assert decide(WindowAverages(40, 40), DELAY, state, 0, 2.0).desired == 4
    assert decide(WindowAverages(0, 0), DELAY, state, 0, 300.0).desired == 4
    assert decide(WindowAverages(0, 0), DELAY, state, 0, 302.0).desired == 0
    steps = [(540, 40, 4), (600, 30, 4), (660, 0, 4), (840, 0, 3), (900, 0, 0)]
    for now, load, want in steps:
        assert decide(WindowAverages(load, load), DELAY, state, 0, float(now)).desired == want


def test_scale_down_delay_is_ignored_when_unreachable() -> None:
    state = DeciderState()
    assert decide(WindowAverages(40, 40), DELAY, state, 0, 2.0).desired == 4
    assert decide(WindowAverages(0, 0), DELAY, state, 0, 60.0).desired == 4
    unreachable = replace(DELAY, reachable=False)
    assert decide(WindowAverages(0, 0), unreachable, state, 0, 62.0).desired == 0


def test_zero_scale_down_delay_scales_down_at_once() -> None:
    spec, state = replace(DELAY, scale_down_delay=0.0), DeciderState()
    assert decide(WindowAverages(40, 40), spec, state, 0, 0.0).desired == 4
    assert decide(WindowAverages(20, 20), spec, state, 0, 0.5).desired == 2


@pytest.mark.parametrize(("ready", "panicking"), [(0, False), (1, False), (2, True)])
def test_a_new_decider_starts_in_panic_above_one_ready_pod(ready: int, panicking: bool) -> None:
    state = DeciderState.starting(ready, 0.0, knative_spec(100, 11))
    assert (state.panicking, state.max_panic_pods) == (panicking, ready)


DEFAULTS = DeciderSpec()


def test_worked_example_one_pod_steady_fifty_keeps_the_activator_in_path() -> None:
    decision = decide(WindowAverages(50, 50), DEFAULTS, DeciderState(), 1, 0.0)
    assert (decision.desired, decision.excess_burst_capacity) == (1, -161)
    assert decision.routing == PROXY


def test_worked_example_burst_of_two_hundred_panics_to_three() -> None:
    decision = decide(WindowAverages(50, 200), DEFAULTS, DeciderState(), 1, 0.0)
    assert (decision.desired, decision.panicking) == (3, True)


def test_worked_example_ten_pods_at_most_halve_per_tick() -> None:
    state, ready, path = DeciderState(), 10, []
    for tick in range(4):
        ready = decide(WindowAverages(0, 0), DEFAULTS, state, ready, 2.0 * tick).desired
        path.append(ready)
    assert path == [5, 2, 1, 0]


def test_enough_burst_capacity_serves_directly() -> None:
    decision = decide(WindowAverages(10, 10), DEFAULTS, DeciderState(), 3, 0.0)
    assert (decision.excess_burst_capacity, decision.routing) == (79, SERVE)
