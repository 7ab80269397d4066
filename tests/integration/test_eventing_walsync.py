"""The WAL's fsync helper process: answers on the loop, fails what it held when it dies,
and never outlives the broker that started it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulut.eventing.walsync import WalSyncer

pytestmark = pytest.mark.integration


class Answers:
    """What the helper answered, by token, and a way to wait for a count of them."""

    def __init__(self) -> None:
        self.by_token: dict[str, OSError | None] = {}
        self.changed = asyncio.Event()

    def __call__(self, token: object, error: OSError | None) -> None:
        self.by_token[str(token)] = error
        self.changed.set()

    async def wait_for(self, count: int) -> dict[str, OSError | None]:
        async with asyncio.timeout(10):
            while len(self.by_token) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.by_token


@contextlib.contextmanager
def helper_for(wal: Path) -> Iterator[tuple[WalSyncer, Answers]]:
    """A started syncer of ``wal`` and what it answers; stopped afterwards."""
    answers = Answers()
    syncer = WalSyncer(asyncio.get_running_loop(), str(wal), 2, answers)
    syncer.start()
    try:
        yield syncer, answers
    finally:
        syncer.close()


def _gone(pid: int) -> bool:
    """The process has exited (reaped, or a zombie waiting for its new parent)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status


async def test_each_group_is_answered_once_the_helper_has_synced_the_wal(tmp_path: Path) -> None:
    wal = tmp_path / "broker.db-wal"
    wal.write_bytes(b"frames")
    with helper_for(wal) as (syncer, answers):
        for n in range(20):
            syncer.submit(f"group-{n}")
        assert await answers.wait_for(20) == {f"group-{n}": None for n in range(20)}
        assert syncer.pending == 0


async def test_a_wal_the_helper_cannot_open_fails_the_group_with_the_os_error(
    tmp_path: Path,
) -> None:
    with helper_for(tmp_path / "missing-wal") as (syncer, answers):
        syncer.submit("group")
        error = (await answers.wait_for(1))["group"]
        assert isinstance(error, FileNotFoundError)


async def test_groups_fail_when_the_helper_dies_and_the_next_group_starts_a_new_one(
    tmp_path: Path,
) -> None:
    wal = tmp_path / "broker.db-wal"
    wal.write_bytes(b"frames")
    with helper_for(wal) as (syncer, answers):
        first = syncer.helper_pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        syncer.submit("held by the dead helper")
        error = (await answers.wait_for(1))["held by the dead helper"]
        assert isinstance(error, OSError)
        syncer.submit("after")
        assert (await answers.wait_for(2))["after"] is None
        assert syncer.helper_pid not in (None, first)


BROKER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from bulut.eventing.log import EventLog
    from bulut.eventing.records import StoredEvent

    async def main():
        log = EventLog(Path(sys.argv[1]))
        log.open()
        seq = log.next_seq()
        await log.append([StoredEvent(seq, "default", "b", "e1", "/t", "demo", 255, {},
                                      [(b"ce-id", b"e1")], b"{}")])
        print(log._syncer.helper_pid, flush=True)
        await asyncio.sleep(60)

    asyncio.run(main())
    """
)


async def test_the_helper_exits_with_a_killed_broker_whose_log_stays_readable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "broker.db"
    broker = subprocess.Popen(
        [sys.executable, "-c", BROKER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert broker.stdout is not None
        helper = int(broker.stdout.readline())  # printed once the event is durable
        broker.kill()
        broker.wait()
    finally:
        if broker.poll() is None:
            broker.kill()
            broker.wait()
    deadline = time.monotonic() + 10
    while not _gone(helper):
        assert time.monotonic() < deadline, f"the fsync helper {helper} outlived its broker"
        await asyncio.sleep(0.01)
    with sqlite3.connect(path) as db:
        assert db.execute("select id from events").fetchall() == [("e1",)]
