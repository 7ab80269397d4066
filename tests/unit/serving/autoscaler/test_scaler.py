"""The Autoscaler loop against an in-memory ScaleTarget, with an injected clock (never slept)."""

from __future__ import annotations

import asyncio

import pytest

from bulut.manifests.autoscaling import AutoscalerConfig
from bulut.serving.autoscaler.decider import PROXY, SERVE, decider_spec
from bulut.serving.autoscaler.metrics import ConcurrencyTracker
from bulut.serving.autoscaler.scaler import Autoscaler
from tests.unit.serving.autoscaler.conftest import FakeClock

A = "autoscaling.knative.dev/"


class InMemoryTarget:
    """A revision's instances as counts: ``scale_to`` starts or stops them at once."""

    def __init__(self, ready: int = 0) -> None:
        self.ready = ready
        self.starting = 0
        self.calls: list[int] = []
        self.scaled = asyncio.Event()
        self.observed = asyncio.Event()

    def ready_instances(self) -> int:
        self.observed.set()
        return self.ready

    def instance_count(self) -> int:
        return self.ready + self.starting

    async def scale_to(self, count: int) -> None:
        self.calls.append(count)
        self.ready = min(self.ready, count)
        self.starting = count - self.ready
        self.scaled.set()

    def become_ready(self) -> None:
        """Every starting instance passes its readiness probe."""
        self.ready, self.starting = self.ready + self.starting, 0


def make(
    clock: FakeClock,
    target: InMemoryTarget,
    annotations: dict[str, str] | None = None,
    config: dict[str, str] | None = None,
    container_concurrency: int = 0,
) -> tuple[Autoscaler, ConcurrencyTracker]:
    spec = decider_spec(
        AutoscalerConfig.from_configmap(config or {}), annotations or {}, container_concurrency
    )
    tracker = ConcurrencyTracker(clock)
    return Autoscaler(target, tracker, spec, clock=clock), tracker


async def tick_every_two_seconds(autoscaler: Autoscaler, clock: FakeClock, seconds: float) -> None:
    """Advance the clock in 2 s steps, ticking after each."""
    for _ in range(round(seconds / 2)):
        clock.advance(2.0)
        await autoscaler.tick()


async def at_zero(
    clock: FakeClock, **kwargs: object
) -> tuple[Autoscaler, ConcurrencyTracker, InMemoryTarget]:
    """A revision that was never called and has already scaled to zero."""
    target = InMemoryTarget()
    autoscaler, tracker = make(clock, target, **kwargs)  # type: ignore[arg-type]
    await autoscaler.tick()
    target.become_ready()
    while target.instance_count() > 0:
        clock.advance(2.0)
        await autoscaler.tick()
    return autoscaler, tracker, target


async def test_a_new_revision_starts_at_initial_scale_and_becomes_active(clock: FakeClock) -> None:
    target = InMemoryTarget()
    autoscaler, _ = make(clock, target, {A + "initial-scale": "2"})
    await autoscaler.tick()
    assert target.calls == [2]
    assert autoscaler.active_condition()[:2] == ("Unknown", "Queued")
    target.become_ready()
    clock.advance(2.0)
    await autoscaler.tick()
    assert autoscaler.active_condition() == ("True", "", "")


async def test_scales_to_zero_a_stable_window_after_the_last_request(clock: FakeClock) -> None:
    target = InMemoryTarget()
    autoscaler, tracker = make(clock, target)
    await autoscaler.tick()
    target.become_ready()
    tracker.started()
    clock.advance(1.0)
    tracker.finished()
    ended = clock.now
    while target.instance_count() > 0:
        clock.advance(2.0 - clock.now % 2.0)
        await autoscaler.tick()
        assert clock.now - ended < 70
    assert 60 <= clock.now - ended <= 64
    assert target.calls == [1, 0]
    assert autoscaler.active_condition()[:2] == ("False", "NoTraffic")
    assert autoscaler.desired_scale == 0


async def test_a_short_window_and_grace_scale_to_zero_in_seconds(clock: FakeClock) -> None:
    target = InMemoryTarget()
    config = {"stable-window": "6s", "scale-to-zero-grace-period": "2s"}
    autoscaler, _ = make(clock, target, config=config)
    await autoscaler.tick()
    target.become_ready()
    await tick_every_two_seconds(autoscaler, clock, 12)
    assert target.instance_count() == 0
    assert target.calls == [1, 0]


async def test_scales_from_zero_on_poke(clock: FakeClock) -> None:
    autoscaler, tracker, target = await at_zero(clock)
    target.calls.clear()
    target.scaled.clear()
    task = asyncio.create_task(Autoscaler.run(autoscaler))
    try:
        async with asyncio.timeout(5):
            await target.observed.wait()
            tracker.started()
            autoscaler.poke()
            await target.scaled.wait()
    finally:
        task.cancel()
    assert target.calls == [1]
    assert autoscaler.active_condition()[:2] == ("Unknown", "Queued")
    assert autoscaler.routing == PROXY


async def test_activation_scale_jumps_from_zero_to_n(clock: FakeClock) -> None:
    autoscaler, tracker, target = await at_zero(clock, annotations={A + "activation-scale": "3"})
    tracker.started()
    clock.advance(0.1)
    decision = await autoscaler.tick()
    assert (decision.desired, target.calls[-1]) == (3, 3)


async def test_without_data_at_zero_nothing_is_wanted(clock: FakeClock) -> None:
    autoscaler, _, target = await at_zero(clock)
    await tick_every_two_seconds(autoscaler, clock, 120)
    assert (autoscaler.desired_scale, target.instance_count()) == (-1, 0)
    assert autoscaler.active_condition()[:2] == ("False", "NoTraffic")


async def test_panics_under_a_burst_and_never_scales_down_during_panic(clock: FakeClock) -> None:
    target = InMemoryTarget()
    autoscaler, tracker = make(clock, target)
    await autoscaler.tick()
    target.become_ready()
    for _ in range(200):
        tracker.started()
    clock.advance(2.0)
    decision = await autoscaler.tick()
    assert (decision.desired, decision.panicking, target.calls[-1]) == (3, True, 3)
    target.become_ready()
    for _ in range(200):
        tracker.finished()
    wants = []
    for _ in range(30):
        clock.advance(2.0)
        wants.append((await autoscaler.tick()).desired)
    assert wants == [3] * 30
    clock.advance(2.0)
    decision = await autoscaler.tick()
    assert not decision.panicking
    assert decision.desired < 3


async def test_scale_down_delay_holds_the_max(clock: FakeClock) -> None:
    target = InMemoryTarget()
    annotations = {A + "window": "6s", A + "scale-down-delay": "20s"}
    autoscaler, tracker = make(clock, target, annotations, container_concurrency=1)
    await autoscaler.tick()
    target.become_ready()
    for _ in range(2):
        tracker.started()
    clock.advance(2.0)
    assert (await autoscaler.tick()).desired == 3
    target.become_ready()
    for _ in range(2):
        tracker.finished()
    wants = []
    for _ in range(14):
        clock.advance(2.0)
        wants.append((await autoscaler.tick()).desired)
    # Panic (6 s window) holds 3 until t+8; without the delay it would drop to 1 at t+10.
    # The last 3 was recorded at t+8, so the 20 s delay holds it until t+28.
    assert wants == [3] * 12 + [1, 1]


async def test_min_scale_keeps_instances_when_reachable(clock: FakeClock) -> None:
    target = InMemoryTarget()
    annotations = {A + "min-scale": "2", A + "window": "6s"}
    autoscaler, _ = make(clock, target, annotations)
    await autoscaler.tick()
    target.become_ready()
    await tick_every_two_seconds(autoscaler, clock, 120)
    assert target.instance_count() == 2
    autoscaler.update_spec(
        decider_spec(AutoscalerConfig(), annotations, 0, reachable=False),
    )
    await tick_every_two_seconds(autoscaler, clock, 60)
    assert target.instance_count() == 0


async def test_rate_limits_halve_at_most_per_tick_after_the_restart_panic(clock: FakeClock) -> None:
    target = InMemoryTarget(ready=8)
    autoscaler, _ = make(clock, target, {A + "window": "6s"})
    decision = await autoscaler.tick()
    assert (decision.desired, decision.panicking) == (8, True)
    await tick_every_two_seconds(autoscaler, clock, 6)
    path = []
    for _ in range(3):
        clock.advance(2.0)
        path.append((await autoscaler.tick()).desired)
        target.become_ready()
    assert path == [4, 2, 1]


async def test_without_scale_to_zero_the_floor_is_one(clock: FakeClock) -> None:
    target = InMemoryTarget()
    config = {"stable-window": "6s", "enable-scale-to-zero": "false"}
    autoscaler, _ = make(clock, target, config=config)
    await autoscaler.tick()
    target.become_ready()
    await tick_every_two_seconds(autoscaler, clock, 120)
    assert target.instance_count() == 1


@pytest.mark.parametrize(("tbc", "routing"), [("211", PROXY), ("0", SERVE), ("-1", PROXY)])
async def test_routing_follows_the_burst_capacity(clock: FakeClock, tbc: str, routing: str) -> None:
    target = InMemoryTarget()
    autoscaler, tracker = make(clock, target, {A + "target-burst-capacity": tbc})
    await autoscaler.tick()
    assert autoscaler.routing == PROXY
    target.become_ready()
    tracker.started()
    clock.advance(2.0)
    decision = await autoscaler.tick()
    assert (decision.routing, autoscaler.routing, decision.activator_in_path) == (
        routing,
        routing,
        routing == PROXY,
    )
