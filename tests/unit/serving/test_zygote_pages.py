"""Parked children copy ahead what instances write first (ADR 0019): which pages are found,
how instances' reports are joined, and when an instance reports."""

from __future__ import annotations

import array
import asyncio
import io
import threading
from types import ModuleType
from typing import Any

import pytest

from tests.support.waiting import eventually

PAGE = 4096
SHARED, OWN, ABSENT = 0x80, 0x81, 0x00  # a pagemap entry's top byte: present, exclusive


def pagemap(start: int, flags: list[int]) -> io.BytesIO:
    """A /proc/self/pagemap stand-in: one entry per page from ``start``, top byte ``flags``."""
    entries = b"".join((flag << 56).to_bytes(8, "little") for flag in flags)
    return io.BytesIO(bytes(start // PAGE * 8) + entries)


def test_pages_still_shared_with_the_zygote_come_in_runs(host: ModuleType) -> None:
    start = 16 * PAGE
    pages = pagemap(start, [SHARED, SHARED, OWN, ABSENT, SHARED])
    end = start + 5 * PAGE

    assert host.page_runs(pages, start, end, PAGE, False) == [
        (start, 2 * PAGE),
        (start + 4 * PAGE, PAGE),
    ]
    assert host.page_runs(pages, start, end, PAGE, True) == [(start + 2 * PAGE, PAGE)]


def test_pages_never_touched_are_neither_shared_nor_own(host: ModuleType) -> None:
    start = 8 * PAGE

    assert host.page_runs(pagemap(start, [ABSENT] * 3), start, start + 3 * PAGE, PAGE, False) == []


def test_runs_are_sorted_and_overlapping_or_adjacent_ones_joined(host: ModuleType) -> None:
    runs = [(10 * PAGE, PAGE), (0, 2 * PAGE), (PAGE, 3 * PAGE), (4 * PAGE, PAGE)]

    assert host.merge_runs(runs) == [(0, 5 * PAGE), (10 * PAGE, PAGE)]


def test_only_private_writable_memory_is_looked_at(host: ModuleType) -> None:
    maps = "\n".join(
        [
            "55d0c0000000-55d0c0021000 rw-p 00000000 00:00 0                  [heap]",
            "7f0000000000-7f0000004000 rw-p 00000000 00:00 0 ",
            "7f0000004000-7f0000005000 rw-p 0001c000 fd:01 123     /usr/lib/libpython3.11.so",
            "7f0000005000-7f0000009000 r-xp 00000000 fd:01 123     /usr/lib/libpython3.11.so",
            "7f0000009000-7f000000a000 rw-s 00000000 00:01 7       /dev/shm/x",
            "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                  [stack]",
        ]
    )

    assert host.writable_regions(maps) == [
        (0x55D0C0000000, 0x55D0C0021000),
        (0x7F0000000000, 0x7F0000004000),
        (0x7F0000004000, 0x7F0000005000),
    ]


def test_the_zygote_keeps_the_union_of_what_instances_report(host: ModuleType) -> None:
    pages = host.Pages()
    try:
        for runs in ([0, 2 * PAGE], [PAGE, 2 * PAGE, 8 * PAGE, PAGE]):
            pages.outbox.send(array.array("Q", runs).tobytes())

        pages.receive()

        assert pages.runs == [(0, 3 * PAGE), (8 * PAGE, PAGE)]
        assert pages.reports == 2
    finally:
        pages.inbox.close()
        pages.outbox.close()


async def test_an_instance_reports_after_its_first_request_that_is_not_a_probe(
    host: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported = threading.Event()
    monkeypatch.setattr(host.Pages, "report", lambda self: reported.set())
    pages = host.Pages()
    answered: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        answered.append(scope["path"])

    learning = pages.learn_from(app)
    probe = {"type": "http", "path": "/health/readiness", "headers": [(b"k-kubelet-probe", b"q")]}
    await learning(probe, None, None)
    await asyncio.sleep(0)
    assert not reported.is_set()

    await learning({"type": "http", "path": "/", "headers": []}, None, None)

    await eventually(reported.is_set, "the instance's report")
    assert answered == ["/health/readiness", "/"]
    pages.inbox.close()
    pages.outbox.close()


def test_instances_stop_reporting_once_the_zygote_has_learned(host: ModuleType) -> None:
    pages = host.Pages()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        return None

    pages.reports = host.LEARN_FROM

    assert pages.learn_from(app) is app
    pages.inbox.close()
    pages.outbox.close()
