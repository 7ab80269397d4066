"""The kubelet's restart back-off for crashing containers (CrashLoopBackOff), as arithmetic.

Facts from the Kubernetes documentation (Pod lifecycle, "Container restarts"): after a
container exits, the kubelet restarts it at once the first time, then waits 10 s, doubling
the wait after each further exit (20 s, 40 s, ...) up to 5 minutes; once a container has run
10 minutes without exiting, the count starts over. While it waits, the container is
``Waiting`` with reason ``CrashLoopBackOff`` and the message ``back-off 40s restarting failed
container``.

The Job controller retries a failed pod the same way but waits before the first retry too
(10 s, 20 s, ... at most 6 minutes, never reset): :data:`JOB_CONTROLLER`.

Pure: the caller measures time and sleeps (tests inject both).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

REASON = "CrashLoopBackOff"


@dataclass(frozen=True)
class BackOff:
    """The restart policy: first wait, ceiling, and how long a run resets the count."""

    initial: float = 10.0
    cap: float = 300.0
    reset_after: float = 600.0
    immediate_first: bool = True

    def delay(self, restarts: int) -> float:
        """The wait before the next restart when ``restarts`` already happened in this loop
        (0 before the first, which is immediate unless ``immediate_first`` is off)."""
        doublings = restarts - 1 if self.immediate_first else restarts
        if doublings < 0:
            return 0.0
        return float(min(self.initial * 2.0 ** min(doublings, 64), self.cap))


KUBELET = BackOff()
JOB_CONTROLLER = BackOff(initial=10.0, cap=360.0, reset_after=math.inf, immediate_first=False)


@dataclass(frozen=True)
class CrashLoop:
    """Where a crash loop stands: restarts so far, and the wait before the next one."""

    restarts: int = 0
    back_off: float = 0.0

    @property
    def backing_off(self) -> bool:
        """Whether the next restart waits (CrashLoopBackOff, not the immediate first one)."""
        return self.back_off > 0

    def message(self, container: str = "user-container") -> str:
        """The kubelet's waiting message: ``back-off 20s restarting failed container=...``."""
        return f"back-off {self.back_off:g}s restarting failed container={container}"


def after_exit(loop: CrashLoop, ran_for: float, policy: BackOff = KUBELET) -> CrashLoop:
    """The loop after one more unexpected exit of a process that ran ``ran_for`` seconds
    since it was last (re)started: a run of ``policy.reset_after`` starts the count over."""
    restarts = 0 if ran_for >= policy.reset_after else loop.restarts
    return CrashLoop(restarts=restarts + 1, back_off=policy.delay(restarts))
