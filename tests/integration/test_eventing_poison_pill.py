"""One bad record never fails its neighbours (issue #20, item 4).

A ``knativebrokerttl`` of 99999999999999999999 used to pass the ingress, overflow SQLite's
integer in the log's group write and drop that whole group: its events, outcomes and
cursors, and every sender in it waited forever.
"""

from __future__ import annotations

import asyncio
import sqlite3
from functools import partial
from pathlib import Path

import httpx
import pytest

from bulut.eventing.log import EventLog
from bulut.eventing.records import StoredEvent
from tests.support.eventing import binary_headers, broker, eventing_runtime

pytestmark = pytest.mark.integration


def _ids(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("select id from events order by seq")]


@pytest.mark.parametrize("ttl", ["99999999999999999999", "256", "-1", "1e3"])
async def test_an_out_of_range_ttl_is_a_400_and_its_neighbours_are_accepted(
    tmp_path: Path, ttl: str
) -> None:
    async with eventing_runtime(tmp_path, [broker()]) as rt, httpx.AsyncClient() as http:

        async def post(event_id: str, **extensions: str) -> httpx.Response:
            headers = binary_headers(event_id, **extensions)
            return await http.post(rt.broker_url, headers=headers, content=b"{}", timeout=5)

        poison, *good = await asyncio.gather(
            post("poison", knativebrokerttl=ttl), *(post(f"g{n}") for n in range(48))
        )
        assert poison.status_code == 400
        assert poison.json()["field"] == "knativebrokerttl"
        assert "0" in poison.json()["detail"] and "255" in poison.json()["detail"]
        assert [response.status_code for response in good] == [202] * 48
        assert sorted(_ids(rt.eventing.log.path)) == sorted(f"g{n}" for n in range(48))


def _event(log: EventLog, event_id: str, ttl: int) -> StoredEvent:
    headers = [(b"ce-id", event_id.encode())]
    seq = log.next_seq()
    return StoredEvent(seq, "default", "b", event_id, "/t", "demo", ttl, {}, headers, b"")


async def test_a_record_the_log_cannot_write_fails_only_its_own_submission(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "broker.db")
    log.open()
    try:
        outcomes: dict[str, BaseException | None] = {}
        for event_id, ttl in [("a", 1), ("bad", 2**70), ("c", 3)]:
            log.submit([_event(log, event_id, ttl)], partial(outcomes.__setitem__, event_id))
        await log.flush()
        assert outcomes["a"] is None and outcomes["c"] is None
        assert outcomes["bad"] is not None
        assert _ids(log.path) == ["a", "c"]
        await log.append([_event(log, "after", 4)])  # the log goes on writing groups
        assert _ids(log.path) == ["a", "c", "after"]
    finally:
        await log.aclose()
