"""The dashboard's live state: resources by kind and each revision's scale over time."""

from __future__ import annotations

import asyncio
from typing import Any

from bulut.dashboard.live import LiveState, ScalePoint
from bulut.eventing.memory_feed import MemoryFeed
from bulut.manifests.feed import ResourceEvent


def revision(name: str, actual: int | None, desired: int | None) -> dict[str, Any]:
    status = {} if actual is None else {"actualReplicas": actual, "desiredReplicas": desired}
    return {"kind": "Revision", "metadata": {"name": name, "namespace": "shop"}, "status": status}


def event(kind: str, obj: dict[str, Any]) -> ResourceEvent:
    return {"type": kind, "object": obj}  # type: ignore[typeddict-item]


def test_each_change_of_scale_adds_a_point_and_repeats_do_not() -> None:
    ticks = iter([1.0, 2.0, 3.0, 4.0])
    state = LiveState(clock=lambda: next(ticks))
    for actual, desired in [(0, 0), (0, 2), (0, 2), (2, 2), (0, 0)]:
        state.apply(event("MODIFIED", revision("orders-00001", actual, desired)))
    assert list(state.series[("shop", "orders-00001")]) == [
        ScalePoint(1.0, 0, 0),
        ScalePoint(2.0, 0, 2),
        ScalePoint(3.0, 2, 2),
        ScalePoint(4.0, 0, 0),
    ]
    assert state.version == 5


def test_a_revision_without_status_counts_as_zero_and_deleting_it_drops_its_series() -> None:
    state = LiveState(clock=lambda: 1.0)
    state.apply(event("ADDED", revision("orders-00001", None, None)))
    assert list(state.series[("shop", "orders-00001")]) == [ScalePoint(1.0, 0, 0)]
    state.apply(event("DELETED", revision("orders-00001", None, None)))
    assert state.series == {} and state.items("Revision") == []


def test_kinds_the_dashboard_does_not_show_are_ignored() -> None:
    state = LiveState()
    state.apply(event("ADDED", {"kind": "ConfigMap", "metadata": {"name": "x"}}))
    assert state.version == 0


async def test_waiters_wake_on_a_change_and_time_out_without_one() -> None:
    state = LiveState()
    feed = MemoryFeed([revision("a", 0, 0)])
    follower = asyncio.create_task(state.follow(feed))
    try:
        assert await state.wait(0, 1.0) == 1
        assert await state.wait(1, 0.01) == 1
        waiting = asyncio.create_task(state.wait(1, 5.0))
        await asyncio.sleep(0)
        feed.put(revision("a", 1, 1))
        assert await asyncio.wait_for(waiting, 1.0) == 2
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)


async def test_closing_wakes_every_waiter_at_once() -> None:
    state = LiveState()
    waiters = [asyncio.create_task(state.wait(0, 30.0)) for _ in range(3)]
    await asyncio.sleep(0)
    state.close()
    assert await asyncio.wait_for(asyncio.gather(*waiters), 1.0) == [0, 0, 0]
    assert await state.wait(0, 30.0) == 0  # returns at once once closed
