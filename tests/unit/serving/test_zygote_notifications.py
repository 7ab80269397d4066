"""The pipe on which instances say they listen (the runtime's end)."""

from __future__ import annotations

import asyncio
import os

from bulut.serving.zygote import Notifications
from tests.support.waiting import eventually


async def test_a_pid_written_to_the_pipe_resolves_its_future() -> None:
    notifications = Notifications()
    try:
        listening = notifications.future(4242)
        os.write(notifications.write_fd, b"4242\n")

        await asyncio.wait_for(listening, 2)

        assert listening.done() and not listening.cancelled()
    finally:
        notifications.close()


async def test_a_pid_announced_before_anyone_asked_is_remembered() -> None:
    notifications = Notifications()
    try:
        os.write(notifications.write_fd, b"17\n1")  # a whole line, then half of another
        await eventually(lambda: notifications._buffer == b"1", "the pipe to be read")
        os.write(notifications.write_fd, b"8\n")
        await eventually(lambda: not notifications._buffer, "the pipe to be read again")

        assert notifications.future(17).done()
        assert notifications.future(18).done()
        assert not notifications.future(19).done()
    finally:
        notifications.close()


async def test_forgetting_a_pid_cancels_its_wait_and_closing_cancels_the_rest() -> None:
    notifications = Notifications()
    gone, other = notifications.future(1), notifications.future(2)

    notifications.forget(1)
    notifications.close()

    assert gone.cancelled() and other.cancelled()
    notifications.close()  # twice is fine


async def test_every_writer_gone_closes_the_reader() -> None:
    notifications = Notifications()
    waiting = notifications.future(5)

    notifications.handed_over()  # the runtime's copy of the write end, closed

    await eventually(waiting.cancelled, "the wait to be cancelled")


async def test_a_process_says_whether_its_own_readiness_probe_passed() -> None:
    notifications = Notifications()
    try:
        ready, listening, early = (notifications.future(pid) for pid in (1, 2, 3))
        os.write(notifications.write_fd, b"1 ready\n2\n4 ready\n")

        await asyncio.wait_for(asyncio.gather(ready, listening), 2)

        assert (ready.result(), listening.result()) == (True, False)
        assert not early.done()
        assert notifications.future(4).result() is True  # said before anyone asked
    finally:
        notifications.close()
