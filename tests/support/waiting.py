"""Waiting on outcomes: poll a check until it holds, and fail naming what never happened.

``await eventually(check, "what")`` polls ``check`` (a plain or async callable) until it
returns something truthy and returns that value; at the deadline it fails the test with
``what`` and the last value seen. ``eventually_blocking`` is the same for code that runs
outside an event loop (threads, subprocesses, the CLI). The poll interval only decides how
soon a test notices; the outcome is always the check's.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")

TIMEOUT = 15.0
INTERVAL = 0.01


class Deadline:
    """When a wait gives up, and the failure it gives up with."""

    def __init__(self, what: str, timeout: float) -> None:
        self.what = what
        self.timeout = timeout
        self.ends = time.monotonic() + timeout

    def check(self, last: object) -> None:
        """Fail the test when the time is up."""
        if time.monotonic() > self.ends:
            raise AssertionError(
                f"timed out after {self.timeout:g} s waiting for {self.what} (last: {last!r})"
            )


@overload
async def eventually(
    check: Callable[[], Awaitable[T | None]],
    what: str,
    *,
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T | None],
    what: str,
    *,
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
) -> T: ...


async def eventually(
    check: Callable[[], Any], what: str, *, timeout: float = TIMEOUT, interval: float = INTERVAL
) -> Any:
    """The first truthy value ``check`` returns (awaited when it is a coroutine); fails the
    test after ``timeout`` seconds."""
    deadline = Deadline(what, timeout)
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        deadline.check(value)
        await asyncio.sleep(interval)


def eventually_blocking(
    check: Callable[[], T | None],
    what: str,
    *,
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
) -> T:
    """:func:`eventually` for code outside an event loop."""
    deadline = Deadline(what, timeout)
    while not (value := check()):
        deadline.check(value)
        time.sleep(interval)
    return value
