"""Reading the durable log: recovery scans, events by id, outcomes, dead letters.

Most queries run on the event loop: they touch indexed rows and return in well under a
millisecond for the sizes they are asked for (recovery reads in chunks). Event ids are
not indexed (see :mod:`.log`), so the admin API looks them up with
:func:`find_events_by_id`, a scan on a reader connection in a worker thread.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from functools import partial
from typing import Any

from bulut.errors import InvalidCloudEventError
from bulut.events import decode_binary

from .log import EVENT_COLUMNS, EventLog
from .records import StoredEvent, unpack_headers


def attributes_of(headers: Sequence[tuple[bytes, bytes]], body: bytes) -> dict[str, Any]:
    """The context attributes carried by stored binary-mode headers."""
    text = {name.decode("latin-1"): value.decode("latin-1") for name, value in headers}
    try:
        return dict(decode_binary(text, body).attributes)
    except InvalidCloudEventError:
        return {k[3:]: v for k, v in text.items() if k.startswith("ce-")}


def _event(row: Sequence[Any]) -> StoredEvent:
    headers = unpack_headers(row[7])
    return StoredEvent(
        seq=row[0],
        namespace=row[1],
        broker=row[2],
        id=row[3],
        source=row[4],
        type=row[5],
        ttl=row[6],
        attributes=attributes_of(headers, row[8]),
        headers=headers,
        body=row[8],
        received=row[9],
    )


def _db(log: EventLog) -> Any:
    assert log.db is not None, "EventLog.open() first"
    return log.db


def cursor_of(log: EventLog, trigger: str) -> int | None:
    """A trigger's stored low-water mark, if any."""
    row = _db(log).execute("select seq from cursors where trigger = ?", (trigger,)).fetchone()
    return None if row is None else int(row[0])


def undelivered(
    log: EventLog, trigger: str, namespace: str, broker: str, after: int, upto: int, limit: int
) -> list[StoredEvent]:
    """Events of a broker in ``(after, upto]`` with no outcome for ``trigger``, oldest first."""
    sql = (
        f"select {EVENT_COLUMNS} from events e where namespace = ? and broker = ?"
        " and seq > ? and seq <= ? and not exists (select 1 from deliveries d"
        " where d.seq = e.seq and d.trigger = ?) order by seq limit ?"
    )
    rows = _db(log).execute(sql, (namespace, broker, after, upto, trigger, limit)).fetchall()
    return [_event(row) for row in rows]


def events_by_id(log: EventLog, event_id: str) -> list[StoredEvent]:
    """Every retained event with this CloudEvents ``id``, newest first (a scan)."""
    return _events_by_id(event_id, _db(log))


async def find_events_by_id(log: EventLog, event_id: str) -> list[StoredEvent]:
    """:func:`events_by_id` off the loop, on the log's reader connection."""
    return await log.read(partial(_events_by_id, event_id))


def _events_by_id(event_id: str, db: sqlite3.Connection) -> list[StoredEvent]:
    sql = f"select {EVENT_COLUMNS} from events where id = ? order by seq desc limit 20"
    return [_event(row) for row in db.execute(sql, (event_id,)).fetchall()]


def _outcome(row: Sequence[Any]) -> dict[str, Any]:
    keys = ("trigger", "outcome", "attempts", "code", "destination", "detail", "history")
    entry = dict(zip(keys, row[:7], strict=True))
    entry["history"] = json.loads(row[6])
    entry["finished"] = row[7]
    return entry


_OUTCOME_COLUMNS = "trigger, outcome, attempts, code, destination, detail, history, finished"


def outcomes_of(log: EventLog, seq: int) -> list[dict[str, Any]]:
    """Recorded outcomes of one event, per trigger."""
    sql = f"select {_OUTCOME_COLUMNS} from deliveries where seq = ? order by trigger"
    return [_outcome(row) for row in _db(log).execute(sql, (seq,)).fetchall()]


def dead_letters(
    log: EventLog, trigger: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Deliveries that ended dead-lettered or failed, newest first, with their event."""
    columns = ", ".join(f"d.{c.strip()}" for c in _OUTCOME_COLUMNS.split(","))
    sql = (
        f"select {columns}, e.seq, e.id, e.source, e.type from deliveries d"
        " join events e on e.seq = d.seq where d.outcome in ('dead-lettered', 'failed')"
        + (" and d.trigger = ?" if trigger else "")
        + " order by d.finished desc limit ?"
    )
    args: tuple[Any, ...] = (trigger, limit) if trigger else (limit,)
    result = []
    for row in _db(log).execute(sql, args).fetchall():
        entry = _outcome(row[:8])
        entry.update(seq=row[8], id=row[9], source=row[10], type=row[11])
        result.append(entry)
    return result
