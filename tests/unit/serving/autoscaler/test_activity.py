"""Bounds, the scale-to-zero gate and the Active condition, from Knative's kpa scaler_test/kpa.go.

Knative's fixture: stable window 60 s, scale-to-zero grace period 60 s, progress deadline
600 s (+30 s activation buffer). ``since`` is how long ago the Active condition changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from bulut.serving.autoscaler.activity import FALSE, TRUE, UNKNOWN, Activity, bounded_scale
from bulut.serving.autoscaler.decider import DeciderSpec

GRACE = 60.0
SPEC = DeciderSpec(stable_window=60.0, scale_to_zero_grace_period=GRACE)
NOW = 10_000.0


@dataclass(frozen=True)
class GateCase:
    """One row of Knative's TestScaler table."""

    name: str
    desired: int
    status: str
    ago: float
    want: tuple[int, bool]
    spec: DeciderSpec = SPEC
    proxy_for: float = 0.0
    initialized: bool = True
    changes: dict[str, object] = field(default_factory=dict)


GATE_CASES = [
    GateCase("waits to scale to zero just before the idle period", 0, TRUE, 59, (1, True)),
    GateCase(
        "custom window: waits just before its idle period",
        0,
        TRUE,
        5,
        (1, True),
        replace(SPEC, stable_window=6.0),
    ),
    GateCase(
        "custom window: deactivates after it",
        0,
        TRUE,
        60,
        (0, False),
        replace(SPEC, stable_window=6),
    ),
    GateCase("deactivates after the idle period, keeping the pod", 0, TRUE, 60, (0, False)),
    GateCase(
        "zero retention annotation scales to zero after grace",
        0,
        FALSE,
        GRACE,
        (0, True),
        replace(SPEC, scale_to_zero_pod_retention_period=0.0),
    ),
    GateCase(
        "waits for the last pod retention past grace",
        0,
        FALSE,
        GRACE,
        (0, False),
        replace(SPEC, scale_to_zero_pod_retention_period=2 * GRACE),
    ),
    GateCase(
        "scales to zero after grace and retention",
        0,
        FALSE,
        GRACE,
        (0, True),
        replace(SPEC, scale_to_zero_pod_retention_period=GRACE),
    ),
    GateCase("scales to zero after the grace period", 0, FALSE, GRACE, (0, True)),
    GateCase("waits just before the grace period", 0, FALSE, GRACE - 1, (0, False)),
    GateCase(
        "waits when proxying for less than grace", 0, FALSE, GRACE - 1, (0, False), proxy_for=59
    ),
    GateCase(
        "fast path when proxying for grace, retention shorter",
        0,
        FALSE,
        GRACE - 1,
        (0, True),
        replace(SPEC, scale_to_zero_pod_retention_period=42.0),
        proxy_for=GRACE,
    ),
    GateCase("fast path when proxying for grace", 0, FALSE, GRACE - 1, (0, True), proxy_for=GRACE),
    GateCase("waits while activating before the deadline", 0, UNKNOWN, 315, (-1, False)),
    GateCase("scales to zero when activation timed out", 0, UNKNOWN, 631, (0, True)),
    GateCase(
        "a revision progress deadline shortens the timeout",
        0,
        UNKNOWN,
        36,
        (0, True),
        replace(SPEC, progress_deadline=5.0),
    ),
    GateCase(
        "scales down to min-scale before grace",
        0,
        FALSE,
        GRACE - 1,
        (2, True),
        replace(SPEC, min_scale=2),
    ),
    GateCase(
        "ignores min-scale when unreachable",
        0,
        FALSE,
        GRACE,
        (0, True),
        replace(SPEC, min_scale=2, reachable=False),
    ),
    GateCase("scales up", 10, TRUE, 0, (10, True)),
    GateCase("scales up to max-scale", 10, TRUE, 0, (8, True), replace(SPEC, max_scale=8)),
    GateCase("scales up an inactive revision", 10, FALSE, GRACE / 2, (10, True)),
    GateCase("does not scale from zero without metrics", -1, FALSE, 0, (-1, False)),
    GateCase("unknown scale does not scale", -1, TRUE, 0, (-1, False)),
    GateCase(
        "initial scale overrides desired until reached",
        1,
        UNKNOWN,
        0,
        (2, True),
        replace(SPEC, initial_scale=2),
        initialized=False,
    ),
    GateCase(
        "initial scale no longer applies once reached",
        1,
        TRUE,
        0,
        (1, True),
        replace(SPEC, initial_scale=5),
    ),
    GateCase(
        "initial scale zero waits at zero",
        0,
        FALSE,
        0,
        (0, False),
        replace(SPEC, initial_scale=0),
        initialized=False,
    ),
    GateCase(
        "without scale to zero the floor is one",
        0,
        FALSE,
        GRACE,
        (1, True),
        replace(SPEC, enable_scale_to_zero=False),
    ),
]


@pytest.mark.parametrize("case", GATE_CASES, ids=[case.name for case in GATE_CASES])
def test_bounds_and_scale_to_zero_gate_like_knative(case: GateCase) -> None:
    activity = Activity(status=case.status, since=NOW - case.ago, initialized=case.initialized)
    got = bounded_scale(case.desired, case.spec, activity, proxy_for=case.proxy_for, now=NOW)
    assert got == case.want


ACTIVE_CASES = [
    ("want zero makes it inactive", 0, 1, TRUE, True, (FALSE, "NoTraffic")),
    ("want zero while activating times out", 0, 0, UNKNOWN, True, (FALSE, "TimedOut")),
    ("want above zero but not ready queues", 1, 0, FALSE, True, (UNKNOWN, "Queued")),
    ("want above zero and ready is active", 1, 1, UNKNOWN, True, (TRUE, "")),
    ("unknown, not ready, inactive stays inactive", -1, 0, FALSE, True, (FALSE, "NoTraffic")),
    ("unknown, not ready, activating stays activating", -1, 0, UNKNOWN, True, (UNKNOWN, "Queued")),
    ("unknown, not ready, active becomes activating", -1, 0, TRUE, True, (UNKNOWN, "Queued")),
    ("unknown, ready, inactive stays inactive", -1, 1, FALSE, True, (FALSE, "NoTraffic")),
    ("unknown, ready, activating becomes active", -1, 1, UNKNOWN, True, (TRUE, "")),
    ("unknown, ready, active stays active", -1, 1, TRUE, True, (TRUE, "")),
]


@pytest.mark.parametrize(
    ("want", "ready", "status", "initialized", "expected"),
    [case[1:] for case in ACTIVE_CASES],
    ids=[case[0] for case in ACTIVE_CASES],
)
def test_active_condition_follows_compute_active_condition(
    want: int, ready: int, status: str, initialized: bool, expected: tuple[str, str]
) -> None:
    reason = {FALSE: "NoTraffic", UNKNOWN: "Queued"}.get(status, "")
    activity = Activity(status=status, reason=reason, initialized=initialized)
    activity.update(SPEC, want, ready, NOW)
    assert (activity.status, activity.reason) == expected


def test_initial_scale_zero_with_unknown_want_is_inactive() -> None:
    activity = Activity(status=UNKNOWN)
    activity.update(replace(SPEC, initial_scale=0), -1, 0, NOW)
    assert (activity.status, activity.reason) == (FALSE, "NoTraffic")


def test_min_ready_is_initial_scale_until_reached_once() -> None:
    spec, activity = replace(SPEC, initial_scale=3), Activity()
    activity.update(spec, -1, 2, NOW)
    assert (activity.status, activity.initialized) == (UNKNOWN, False)
    activity.update(spec, -1, 3, NOW)
    assert (activity.status, activity.initialized, activity.min_ready(spec)) == (TRUE, True, 1)


def test_transition_time_moves_only_on_change() -> None:
    activity = Activity(status=TRUE, since=5.0)
    activity.update(SPEC, 1, 1, NOW)
    assert activity.since == 5.0
    activity.update(SPEC, 0, 1, NOW)
    assert activity.since == NOW
