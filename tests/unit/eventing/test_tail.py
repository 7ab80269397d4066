"""The live tail fans records out and never blocks the broker."""

from __future__ import annotations

import asyncio

from bulut.eventing.tail import Tail


async def test_watchers_receive_records_published_after_they_joined() -> None:
    tail = Tail()
    stream = tail.watch()
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    assert tail.watched
    tail.publish({"kind": "event", "id": "1"})
    assert await first == {"kind": "event", "id": "1"}
    await stream.aclose()
    assert tail.dropped == 0


async def test_a_slow_watcher_loses_records_instead_of_slowing_the_broker() -> None:
    tail = Tail(queue_size=2)
    stream = tail.watch()
    pending = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    for n in range(5):
        tail.publish({"n": n})
    assert await pending == {"n": 0}
    assert tail.dropped == 3  # the queue held 0 and 1 when 2, 3 and 4 came
    await stream.aclose()
