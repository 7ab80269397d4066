"""The activator holds requests until an instance slot is offered."""

from __future__ import annotations

import asyncio

import pytest

from bulut.serving.activator import Activator
from bulut.serving.queue import QueueFullError


async def test_held_requests_are_released_oldest_first() -> None:
    activator: Activator[str] = Activator(lambda _: None)
    first = asyncio.ensure_future(activator.hold())
    second = asyncio.ensure_future(activator.hold())
    await asyncio.sleep(0)

    assert activator.offer("instance-a")
    await asyncio.sleep(0)

    assert first.result() == "instance-a"
    assert not second.done()
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)


async def test_an_offer_with_nobody_waiting_is_declined() -> None:
    activator: Activator[str] = Activator(lambda _: None)

    assert not activator.offer("instance-a")


async def test_a_full_activator_answers_503() -> None:
    activator: Activator[str] = Activator(lambda _: None, queue_depth=2)
    held = [asyncio.ensure_future(activator.hold()) for _ in range(2)]
    await asyncio.sleep(0)

    with pytest.raises(QueueFullError):
        await activator.hold()
    for waiter in held:
        waiter.cancel()
    await asyncio.gather(*held, return_exceptions=True)
    assert activator.held == 0


async def test_a_slot_offered_to_a_request_that_gave_up_is_given_back() -> None:
    returned: list[str] = []
    activator: Activator[str] = Activator(returned.append)
    waiter = asyncio.ensure_future(activator.hold())
    await asyncio.sleep(0)

    activator.offer("instance-a")
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)

    assert returned == ["instance-a"]
