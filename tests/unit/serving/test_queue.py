"""queue-proxy's breaker: CC slots, a 10 × CC queue, 503 beyond."""

from __future__ import annotations

import asyncio

import pytest

from bulut.serving.queue import Breaker, QueueFullError


async def test_a_breaker_admits_cc_requests_at_once() -> None:
    breaker = Breaker(2)

    assert breaker.try_acquire() and breaker.try_acquire()
    assert not breaker.try_acquire()
    assert breaker.in_flight == 2


async def test_the_queue_holds_ten_times_cc_then_refuses() -> None:
    breaker = Breaker(1)
    assert breaker.try_acquire()
    waiters = [asyncio.ensure_future(breaker.acquire()) for _ in range(10)]
    await asyncio.sleep(0)

    with pytest.raises(QueueFullError, match="pending request queue full"):
        await breaker.acquire()
    assert breaker.waiting == 10
    for waiter in waiters:
        waiter.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)


async def test_a_released_slot_goes_to_the_oldest_waiter() -> None:
    breaker = Breaker(1)
    assert breaker.try_acquire()
    first = asyncio.ensure_future(breaker.acquire())
    second = asyncio.ensure_future(breaker.acquire())
    await asyncio.sleep(0)

    assert breaker.release() is False
    await asyncio.sleep(0)

    assert first.done() and not second.done()
    assert breaker.in_flight == 1
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)


async def test_zero_containerconcurrency_means_no_limit() -> None:
    breaker = Breaker(0)

    assert all(breaker.try_acquire() for _ in range(1000))


async def test_a_waiter_that_gives_up_leaves_the_queue() -> None:
    breaker = Breaker(1)
    assert breaker.try_acquire()
    waiter = asyncio.ensure_future(breaker.acquire())
    await asyncio.sleep(0)

    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)

    assert breaker.waiting == 0
    assert breaker.release() is True
    assert breaker.in_flight == 0
