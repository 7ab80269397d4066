"""The KPA decision, pure: Knative's ``autoscaler.Scale()`` one tick at a time (§1.5).

``decide`` takes the window averages, the DeciderSpec, the mutable DeciderState and
``now``; it never sleeps or touches I/O. Bounds (min/max/initial scale) and the
scale-to-zero gate are the scaler's job, as in Knative's KPA reconciler.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bulut.serving.autoscaler.delay import MaxTimeWindow
from bulut.serving.autoscaler.spec import DeciderSpec, decider_spec, panic_window

__all__ = [
    "PROXY",
    "SERVE",
    "DeciderSpec",
    "DeciderState",
    "ScaleDecision",
    "WindowAverages",
    "decide",
    "decider_spec",
    "excess_burst_capacity",
    "panic_window",
    "routing_mode",
]

PROXY = "Proxy"
SERVE = "Serve"


@dataclass(frozen=True)
class WindowAverages:
    """Stable- and panic-window averages of the scaling metric, revision-wide."""

    stable: float
    panic: float


@dataclass
class DeciderState:
    """What one decider remembers between ticks (panic mode and the scale-down-delay window)."""

    panic_time: float | None = None
    max_panic_pods: int = 0
    delay_window: MaxTimeWindow | None = None
    excess_burst_capacity: float = 0.0

    @classmethod
    def starting(cls, ready: int, now: float, spec: DeciderSpec) -> DeciderState:
        """A new decider: in panic at ``now`` if it finds more than one ready instance.

        Keeps the current scale after an autoscaler restart until metrics accumulate.
        """
        return cls(
            panic_time=now if ready > 1 else None,
            max_panic_pods=ready,
            excess_burst_capacity=excess_burst_capacity(spec, ready, 0.0),
        )

    @property
    def panicking(self) -> bool:
        """Whether the decider is in panic mode."""
        return self.panic_time is not None


@dataclass(frozen=True)
class ScaleDecision:
    """One decision: the instance count wanted (-1 = unknown, no data) and what led to it.

    From :func:`decide`, ``desired`` is the decider's recommendation; from
    ``Autoscaler.tick`` it is the count after bounds and the scale-to-zero gate, and
    ``routing`` is the mode the router should use (``Proxy`` = through the activator).
    """

    desired: int
    excess_burst_capacity: float
    panicking: bool
    stable_average: float
    panic_average: float
    routing: str = PROXY

    @property
    def activator_in_path(self) -> bool:
        """Whether requests go through the activator (Proxy) rather than straight to instances."""
        return self.routing == PROXY


def excess_burst_capacity(spec: DeciderSpec, ready: int, panic_average: float) -> float:
    """EBC = floor(ready × total − TBC − panic average); 0 when TBC = 0, -1 when TBC = -1."""
    if spec.target_burst_capacity == 0:
        return 0.0
    if spec.target_burst_capacity < 0:
        return -1.0
    return float(math.floor(ready * spec.total - spec.target_burst_capacity - panic_average))


def routing_mode(want: int, ebc: float, ready: int, *, inactive: bool = False) -> str:
    """Proxy when at zero, when EBC < 0, or unknown while inactive; otherwise Serve.

    Locally the activator is also in the path whenever no instance is ready.
    """
    if want == 0 or ebc < 0 or ready == 0 or (want < 0 and inactive):
        return PROXY
    return SERVE


def decide(
    averages: WindowAverages | None,
    spec: DeciderSpec,
    state: DeciderState,
    ready: int,
    now: float,
) -> ScaleDecision:
    """One tick of the KPA decider; updates ``state`` (panic, delay window, last EBC)."""
    if averages is None:
        return ScaleDecision(
            desired=-1,
            excess_burst_capacity=state.excess_burst_capacity,
            panicking=state.panicking,
            stable_average=0.0,
            panic_average=0.0,
            routing=routing_mode(-1, state.excess_burst_capacity, ready),
        )
    pods = float(max(1, ready))
    max_up = math.ceil(spec.max_scale_up_rate * pods)
    max_down = math.floor(pods / spec.max_scale_down_rate) if spec.reachable else 0
    dspc = math.ceil(averages.stable / spec.target)
    dppc = math.ceil(averages.panic / spec.target)
    stable_want = min(max(dspc, max_down), max_up)
    panic_want = min(max(dppc, max_down), max_up)
    if spec.activation_scale > 1:
        if dspc > 0:
            stable_want = max(stable_want, spec.activation_scale)
        if dppc > 0:
            panic_want = max(panic_want, spec.activation_scale)
    _update_panic(state, spec, over_threshold=dppc / pods >= spec.panic_threshold, now=now)
    desired = stable_want
    if state.panicking:
        state.max_panic_pods = max(state.max_panic_pods, stable_want, panic_want)
        desired = state.max_panic_pods
    desired = _delay_scale_down(state, spec, desired, now)
    ebc = excess_burst_capacity(spec, ready, averages.panic)
    state.excess_burst_capacity = ebc
    return ScaleDecision(
        desired=desired,
        excess_burst_capacity=ebc,
        panicking=state.panicking,
        stable_average=averages.stable,
        panic_average=averages.panic,
        routing=routing_mode(desired, ebc, ready),
    )


def _update_panic(
    state: DeciderState, spec: DeciderSpec, *, over_threshold: bool, now: float
) -> None:
    """Enter or extend panic while over the threshold; leave a stable window after the last."""
    if over_threshold:
        state.panic_time = now
    elif state.panic_time is not None and state.panic_time + spec.stable_window < now:
        state.panic_time = None
        state.max_panic_pods = 0


def _delay_scale_down(state: DeciderState, spec: DeciderSpec, desired: int, now: float) -> int:
    """The maximum desired over the last scale-down-delay (only when set and reachable)."""
    if spec.scale_down_delay <= 0 or not spec.reachable:
        state.delay_window = None
        return desired
    window = state.delay_window
    if window is None or window.duration != spec.scale_down_delay:
        window = state.delay_window = MaxTimeWindow(spec.scale_down_delay)
    window.record(now, desired)
    return window.current()
