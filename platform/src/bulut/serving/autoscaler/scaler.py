"""The per-revision autoscaler loop: decide every 2 s (or at once when poked), then scale.

This is the I/O half of KPA: it reads the ready count from a :class:`ScaleTarget`, asks
the pure decider, applies bounds and the scale-to-zero gate (:mod:`.activity`), and asks
the target to start or stop instances. The router pokes it when a request reaches a
revision with no ready instance, like Knative's activator pokes the multiscaler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from bulut.errors import BulutError
from bulut.serving.autoscaler.activity import FALSE, Activity, bounded_scale
from bulut.serving.autoscaler.decider import (
    PROXY,
    DeciderSpec,
    DeciderState,
    ScaleDecision,
    decide,
    routing_mode,
)
from bulut.serving.autoscaler.metrics import ConcurrencyTracker

logger = logging.getLogger(__name__)


class ScaleTarget(Protocol):
    """The instances of one revision, as the autoscaler sees them."""

    def ready_instances(self) -> int:
        """Instances whose readiness probe passed."""
        ...

    def instance_count(self) -> int:
        """Instances starting or ready (not terminating)."""
        ...

    async def scale_to(self, count: int) -> None:
        """Start or stop instances to reach ``count``; returns once that has begun."""
        ...


class Autoscaler:
    """KPA for one revision: decider + bounds + scale-to-zero gate + ``Active`` condition."""

    def __init__(
        self,
        target: ScaleTarget,
        tracker: ConcurrencyTracker,
        spec: DeciderSpec,
        *,
        clock: Callable[[], float] = time.monotonic,
        tick_interval: float = 2.0,
    ) -> None:
        self._target = target
        self._tracker = tracker
        self._spec = spec
        self._clock = clock
        self._tick_interval = tick_interval
        created = clock()
        self._state: DeciderState | None = None
        self._activity = Activity(since=created)
        self._mode = PROXY
        self._proxy_since = created
        self._desired = -1
        self._last: ScaleDecision | None = None
        self._poked = asyncio.Event()
        self._lock = asyncio.Lock()

    @property
    def spec(self) -> DeciderSpec:
        """The DeciderSpec in force."""
        return self._spec

    @property
    def desired_scale(self) -> int:
        """The instance count last wanted after bounds and the gate (-1 = unknown)."""
        return self._desired

    @property
    def last_decision(self) -> ScaleDecision | None:
        """The outcome of the last tick, if any."""
        return self._last

    @property
    def routing(self) -> str:
        """``Proxy`` (through the activator) or ``Serve`` (straight to instances)."""
        return self._mode

    def update_spec(self, spec: DeciderSpec) -> None:
        """Use a new DeciderSpec from the next tick on (annotations or config changed)."""
        self._spec = spec

    def poke(self) -> None:
        """A request arrived while no instance is ready: decide now, not at the next tick.

        Call it from the event loop that runs :meth:`run`, after ``tracker.started()``.
        """
        self._poked.set()

    def active_condition(self) -> tuple[str, str, str]:
        """The Revision ``Active`` condition: (status, reason, message)."""
        return self._activity.status, self._activity.reason, self._activity.message

    async def run(self) -> None:
        """Tick at once, then every ``tick_interval`` or when poked, until cancelled."""
        while True:
            try:
                await self.tick()
            except BulutError:
                logger.exception("autoscaler tick failed; retrying at the next tick")
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that lands
            # as the event is set, and this loop would then never stop (aclose hangs).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._tick_interval):
                    await self._poked.wait()
            self._poked.clear()

    async def tick(self) -> ScaleDecision:
        """One decision, bounded and gated; scales the target when the wanted count differs."""
        async with self._lock:
            now = self._clock()
            spec = self._spec
            ready = self._target.ready_instances()
            self._tracker.observe_instances(ready)
            if self._state is None:
                self._state = DeciderState.starting(ready, now, spec)
                await self._reach_initial_scale(spec)
            averages = self._tracker.averages(
                spec.stable_window, spec.panic_window, metric=spec.metric, algorithm=spec.algorithm
            )
            decision = decide(averages, spec, self._state, ready, now)
            proxy_for = now - self._proxy_since if self._mode == PROXY else 0.0
            want, apply = bounded_scale(
                decision.desired, spec, self._activity, proxy_for=proxy_for, now=now
            )
            if apply and want >= 0 and want != self._target.instance_count():
                await self._target.scale_to(want)
            mode = routing_mode(
                want, decision.excess_burst_capacity, ready, inactive=self._activity.status == FALSE
            )
            if mode != self._mode:
                self._mode, self._proxy_since = mode, now
            self._activity.update(spec, want, ready, now)
            self._desired = want
            self._last = replace(decision, desired=want, routing=mode)
            return self._last

    async def _reach_initial_scale(self, spec: DeciderSpec) -> None:
        """A new revision starts with initial-scale instances (the Deployment's first replicas)."""
        initial = max(spec.initial_scale, spec.lower_bound)
        if initial > self._target.instance_count():
            await self._target.scale_to(initial)
