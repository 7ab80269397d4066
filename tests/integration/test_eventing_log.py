"""The durable log on a real SQLite file: group commit, recovery reads, retention."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bulut.eventing import queries
from bulut.eventing.log import EventLog
from bulut.eventing.records import Outcome, Retention, StoredEvent
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def _event(log: EventLog, n: int, broker: str = "default") -> StoredEvent:
    headers = [
        (b"ce-specversion", b"1.0"),
        (b"ce-id", f"e{n}".encode()),
        (b"ce-source", b"/t"),
        (b"ce-type", b"demo"),
    ]
    return StoredEvent(
        log.next_seq(), "default", broker, f"e{n}", "/t", "demo", 255, {}, headers, b"{}"
    )


async def test_concurrent_appends_share_fsyncs_and_survive_reopening(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "broker.db")
    log.open()
    await asyncio.gather(*(log.append([_event(log, n)]) for n in range(200)))
    assert log.commits < 200 / 4  # group commit: many appends per fsync
    log.record(Outcome(1, "default/t", "delivered", 1, 200, "http://x/"))
    log.set_cursor("default/t", "default", "default", 1)
    await log.aclose()

    reopened = EventLog(tmp_path / "broker.db")
    reopened.open()
    assert reopened.head == 200
    assert queries.cursor_of(reopened, "default/t") == 1
    pending = queries.undelivered(reopened, "default/t", "default", "default", 0, 200, 1000)
    assert [e.seq for e in pending] == list(range(2, 201))
    assert pending[0].attributes["id"] == "e1"
    (found,) = queries.events_by_id(reopened, "e0")
    assert queries.outcomes_of(reopened, found.seq)[0]["outcome"] == "delivered"
    await reopened.aclose()


async def test_retention_removes_only_delivered_events_beyond_the_bound(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "broker.db", Retention(max_events=10, max_age_seconds=3600))
    log.open()
    await log.append([_event(log, n) for n in range(50)])
    log.set_cursor("default/t", "default", "default", 30)  # the trigger is done up to 30
    await log.flush()
    assert await log.prune() == 30
    assert queries.events_by_id(log, "e29") == []
    assert len(queries.events_by_id(log, "e30")) == 1
    log.set_cursor("default/t", "default", "default", 50)
    await log.flush()
    assert await log.prune() == 10  # now the newest 10 stay
    remaining = queries.undelivered(log, "other/t", "default", "default", 0, 50, 100)
    assert [e.seq for e in remaining] == list(range(41, 51))
    await log.aclose()


class HeldSyncs:
    """The log's fsyncs, each finishing when the test says so, in any order."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.tokens: list[object] = []
        self.settled: list[tuple[str, BaseException | None]] = []
        self.finished: set[int] = set()

    def submit(self, token: object) -> None:
        self.tokens.append(token)

    def finish(self, index: int, error: OSError | None = None) -> None:
        self.finished.add(index)
        self.log._synced(self.tokens[index], error)  # type: ignore[arg-type]

    def finish_the_rest(self) -> None:
        for index in set(range(len(self.tokens))) - self.finished:
            self.finish(index)

    def close(self) -> None:
        pass

    async def commit(self, name: str) -> None:
        """Append one event as group ``name``; return once its fsync has started."""
        started = len(self.tokens) + 1
        self.log.submit([_event(self.log, started)], lambda e: self.settled.append((name, e)))
        await eventually(lambda: len(self.tokens) == started, f"the {name} group's fsync")


@pytest.fixture
async def held(tmp_path: Path) -> AsyncIterator[HeldSyncs]:
    """A log whose two groups, "first" and "second", are committed with fsyncs held."""
    log = EventLog(tmp_path / "broker.db")
    log.open()
    real, syncs = log._syncer, HeldSyncs(log)
    log._syncer = syncs  # type: ignore[assignment]
    await syncs.commit("first")
    await syncs.commit("second")
    yield syncs
    syncs.finish_the_rest()  # a failed test must not leave the log waiting on its close
    log._syncer = real
    await log.aclose()


async def test_groups_are_settled_in_commit_order_when_their_fsyncs_finish_out_of_order(
    held: HeldSyncs,
) -> None:
    held.finish(1)  # it began after the first group's commit: both groups are durable
    assert held.settled == [("first", None), ("second", None)]
    held.finish(0)  # the first group's own fsync, later: nothing is settled twice
    assert held.settled == [("first", None), ("second", None)]


async def test_a_failed_fsync_is_settled_after_the_groups_committed_before_it(
    held: HeldSyncs,
) -> None:
    failure = OSError(5, "Input/output error")
    held.finish(1, failure)
    assert held.settled == []  # the first group is not settled yet: nothing may pass it
    held.finish(0)
    assert held.settled == [("first", None), ("second", failure)]
