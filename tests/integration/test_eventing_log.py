"""The durable log on a real SQLite file: group commit, recovery reads, retention."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bulut.eventing import queries
from bulut.eventing.log import EventLog
from bulut.eventing.records import Outcome, Retention, StoredEvent

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
