"""Reading the broker log of a state dir (without importing bulut.eventing).

The log is SQLite (``events``, ``deliveries``, ``cursors``; see
``bulut/eventing/log.py``). Backups record where it stood; restores and drills count
what it holds. Only the columns named here are read, so a newer log with more columns
still works.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from .manifest import LogPosition

LOG_NAME = "broker.db"


def find_logs(eventing_dir: Path) -> list[Path]:
    """Every broker log under a state dir's ``eventing/`` folder."""
    if not eventing_dir.is_dir():
        return []
    return sorted(eventing_dir.rglob(LOG_NAME))


def position(log: Path) -> LogPosition:
    """Highest sequence number, its acceptance time and the number of events."""
    with closing(sqlite3.connect(log)) as db:
        row = db.execute(
            "select coalesce(max(seq), 0), count(*), coalesce(max(received), 0) from events"
        ).fetchone()
    return LogPosition(seq=int(row[0]), events=int(row[1]), received=float(row[2]))


def event_ids(log: Path) -> set[str]:
    """Every CloudEvents id in the log."""
    with closing(sqlite3.connect(log)) as db:
        return {str(row[0]) for row in db.execute("select id from events")}


def events_after(log: Path, seq: int, limit: int = 5000) -> Iterator[tuple[object, ...]]:
    """Raw event rows with a sequence number above ``seq``, in order."""
    columns = "seq, namespace, broker, id, source, type, ttl, headers, body, received"
    with closing(sqlite3.connect(log)) as db:
        while True:
            rows = db.execute(
                f"select {columns} from events where seq > ? order by seq limit ?", (seq, limit)
            ).fetchall()
            if not rows:
                return
            yield from rows
            seq = int(rows[-1][0])
