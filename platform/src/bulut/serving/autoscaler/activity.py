"""The PodAutoscaler side of KPA, pure: bounds, the scale-to-zero gate and ``Active`` (§1.6, §1.7).

Mirrors ``scaler.scale()``/``handleScaleToZero`` and ``computeActiveCondition`` of Knative's
KPA reconciler. Locally the activator is always in the path at zero and the router switches
at once, so the activator probe of §1.7 always succeeds.
"""

from __future__ import annotations

from dataclasses import dataclass

from bulut.serving.autoscaler.spec import DeciderSpec

ACTIVATION_TIMEOUT_BUFFER = 30.0
TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"
NO_TRAFFIC = ("NoTraffic", "The target is not receiving traffic.")
TIMED_OUT = ("TimedOut", "The target could not be activated.")
QUEUED = ("Queued", "Requests to the target are being buffered as resources are provisioned.")


@dataclass
class Activity:
    """The PA ``Active`` condition, when it last changed, and whether initial scale was reached."""

    status: str = UNKNOWN
    reason: str = ""
    message: str = ""
    since: float = 0.0
    initialized: bool = False

    def mark(self, status: str, reason: str, message: str, now: float) -> None:
        """Set the condition; the transition time moves only when something changes."""
        if (status, reason, message) != (self.status, self.reason, self.message):
            self.status, self.reason, self.message, self.since = status, reason, message, now

    def min_ready(self, spec: DeciderSpec) -> int:
        """Ready instances needed to be Active: initial scale until reached once, then 1."""
        floor = spec.initial_scale if not self.initialized else 1
        return max(spec.lower_bound, floor)

    def update(self, spec: DeciderSpec, want: int, ready: int, now: float) -> None:
        """``computeActiveCondition``: derive Active from the wanted and ready counts."""
        min_ready = self.min_ready(spec)
        if ready >= min_ready:
            self.initialized = True
        if want == 0 or min_ready == 0:
            timed_out = self.status == UNKNOWN and min_ready > 0
            self.mark(FALSE, *(TIMED_OUT if timed_out else NO_TRAFFIC), now)
        elif ready < min_ready:
            if want > 0 or self.status != FALSE:
                self.mark(UNKNOWN, *QUEUED, now)
            else:
                self.mark(FALSE, *NO_TRAFFIC, now)
        elif want > 0 or self.status != FALSE:
            self.mark(TRUE, "", "", now)


def apply_bounds(low: int, high: int, value: int) -> int:
    """Clamp into [low, high]; ``high`` 0 means no upper bound."""
    if value < low:
        return low
    if high != 0 and value > high:
        return high
    return value


def bounded_scale(
    desired: int, spec: DeciderSpec, activity: Activity, *, proxy_for: float, now: float
) -> tuple[int, bool]:
    """(want, apply?) for the decider's ``desired``: bounds, initial scale, scale-to-zero gate.

    ``want`` -1 means unknown; ``apply`` False leaves the instance count alone (want 0
    without apply marks the revision inactive while its last instance stays).
    """
    if desired < 0 and activity.status != UNKNOWN:
        return desired, False
    low = spec.lower_bound
    if spec.initial_scale > 1 and not activity.initialized and spec.reachable:
        low = max(low, spec.initial_scale)
    want = apply_bounds(low, spec.max_scale, desired)
    if want != 0:
        return want, True
    return _scale_to_zero(spec, activity, proxy_for=proxy_for, now=now)


def _scale_to_zero(
    spec: DeciderSpec, activity: Activity, *, proxy_for: float, now: float
) -> tuple[int, bool]:
    """``handleScaleToZero``: only when Active long enough, then inactive past grace/retention."""
    if not spec.enable_scale_to_zero:
        return 1, True
    held_for = now - activity.since
    if activity.status == UNKNOWN:
        if held_for > spec.progress_deadline + ACTIVATION_TIMEOUT_BUFFER:
            return 0, True
        return -1, False
    if activity.status == TRUE:
        return (0, False) if held_for >= spec.stable_window else (1, True)
    retention = spec.scale_to_zero_pod_retention_period if spec.reachable else 0.0
    grace = spec.scale_to_zero_grace_period
    if held_for >= max(grace, retention):
        return 0, True
    if retention > 0 and held_for < retention:
        return 0, False
    return 0, grace - proxy_for <= 0
