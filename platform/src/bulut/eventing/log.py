"""The broker's durable log: SQLite in WAL mode with group commit.

Every accepted event is a row in ``events`` before the ingress answers 202. Rows are
written on the event loop (a WAL append costs microseconds) and made durable by one
``fsync`` of the WAL file in a worker thread; while that fsync runs, new events queue
up and go out together in the next group, so a burst of concurrent posts costs one
fsync, not one each. (SQLite's own ``synchronous=FULL`` does the same fsync, but a
writer thread pays a GIL hand-off on every row, which made p50 latency several times
worse under load; see docs/adr/0008-durable-broker-log.md.)

Terminal delivery outcomes go to ``deliveries`` and each trigger's low-water mark to
``cursors`` through the same groups, in order, so a cursor never commits ahead of the
outcomes below it. After ``kill -9`` a trigger resumes from its cursor and skips
events that already have an outcome: every accepted event is delivered at least once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .records import Outcome, Retention, StoredEvent, pack_headers

SCHEMA = """
create table if not exists events(
  seq integer primary key, namespace text not null, broker text not null,
  id text not null, source text not null, type text not null, ttl integer not null,
  headers blob not null, body blob not null, received real not null);
create index if not exists events_by_id on events(id);
create table if not exists deliveries(
  seq integer not null, trigger text not null, outcome text not null,
  attempts integer not null, code integer not null, destination text not null,
  detail text not null, history text not null, finished real not null,
  primary key(seq, trigger));
create table if not exists cursors(
  trigger text primary key, namespace text not null, broker text not null,
  seq integer not null);
"""

EVENT_COLUMNS = "seq, namespace, broker, id, source, type, ttl, headers, body, received"
_INSERT_EVENT = f"insert or replace into events({EVENT_COLUMNS}) values (?,?,?,?,?,?,?,?,?,?)"
_INSERT_OUTCOME = "insert or replace into deliveries values (?,?,?,?,?,?,?,?,?)"
_UPSERT_CURSOR = (
    "insert into cursors values (?,?,?,?) on conflict(trigger) do update"
    " set seq = max(seq, excluded.seq)"
)


def _fsync(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # no WAL yet: nothing was written
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


MAX_SYNCS_IN_FLIGHT = 2
CHECKPOINT_INTERVAL = 1.0
log = logging.getLogger(__name__)


def _settle(waiters: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for waiter in waiters:
        if waiter.done():
            continue
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(sqlite3.OperationalError(str(error)))


class EventLog:
    """Append events durably, record outcomes and cursors; queries live in :mod:`.queries`."""

    def __init__(self, path: Path, retention: Retention | None = None) -> None:
        self.path = path
        self.retention = retention or Retention()
        self.db: sqlite3.Connection | None = None
        self.head = 0
        self.commits = 0
        self._events: list[tuple[Any, ...]] = []
        self._outcomes: list[tuple[Any, ...]] = []
        self._cursors: dict[str, tuple[str, str, str, int]] = {}
        self._drops: list[str] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._syncs: set[asyncio.Future[None]] = set()
        self._checkpointer: sqlite3.Connection | None = None
        self._checkpoints: asyncio.Task[None] | None = None

    # -- lifecycle
    def open(self) -> None:
        """Create the schema, learn the head sequence, start checkpointing in the background.

        SQLite's automatic checkpoint would run inside a commit on the event loop and stall
        it (tens of ms); checkpoints run instead on their own connection in a worker thread.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("pragma journal_mode=wal")
        db.execute("pragma synchronous=normal")  # the WAL fsync is ours, per group
        db.execute("pragma wal_autocheckpoint=0")
        db.executescript(SCHEMA)
        self.head = db.execute("select coalesce(max(seq), 0) from events").fetchone()[0]
        self.db = db
        _fsync(str(self.path.parent))
        self._checkpointer = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False
        )
        self._checkpoints = asyncio.get_running_loop().create_task(self._checkpoint_forever())

    async def _checkpoint_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL)
            try:
                await loop.run_in_executor(None, self._checkpoint)
            except sqlite3.Error as error:
                log.warning("event log checkpoint failed: %s", error)

    def _checkpoint(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.execute("pragma wal_checkpoint(PASSIVE)").fetchall()

    async def aclose(self) -> None:
        """Commit what is queued and close."""
        await self.flush()
        if self._checkpoints is not None:
            self._checkpoints.cancel()
            await asyncio.gather(self._checkpoints, return_exceptions=True)
            self._checkpoints = None
        if self._flusher is not None:
            await asyncio.gather(self._flusher, *self._syncs, return_exceptions=True)
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        if self.db is not None:
            self.db.close()
            self.db = None

    # -- writes
    def next_seq(self) -> int:
        """Reserve the next sequence number."""
        self.head += 1
        return self.head

    async def append(self, events: Iterable[StoredEvent]) -> None:
        """Write ``events`` (sequence numbers already reserved); return once fsync'd."""
        self._events.extend(
            (e.seq, e.namespace, e.broker, e.id, e.source, e.type, e.ttl,
             pack_headers(e.headers), e.body, e.received)
            for e in events
        )  # fmt: skip
        await self.flush()

    def record(self, outcome: Outcome) -> None:
        """Queue a terminal outcome (committed with the next group)."""
        o = outcome
        self._outcomes.append(
            (o.seq, o.trigger, o.outcome, o.attempts, o.code, o.destination, o.detail,
             json.dumps(list(o.history)), o.finished)
        )  # fmt: skip
        self._kick()

    def set_cursor(self, trigger: str, namespace: str, broker: str, seq: int) -> None:
        """Queue a trigger's low-water mark: every event <= seq is done for it."""
        self._cursors[trigger] = (trigger, namespace, broker, seq)
        self._kick()

    def drop_cursor(self, trigger: str) -> None:
        """Forget a deleted trigger."""
        self._cursors.pop(trigger, None)
        self._drops.append(trigger)
        self._kick()

    async def flush(self) -> None:
        """Wait until everything queued so far is committed and fsync'd."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        self._kick()
        await future

    def _kick(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_groups())

    async def _flush_groups(self) -> None:
        syncs = self._syncs
        while self._events or self._outcomes or self._cursors or self._drops or self._waiters:
            await asyncio.sleep(0)  # let this tick's appends join the group
            if len(syncs) >= MAX_SYNCS_IN_FLIGHT:
                await asyncio.wait(syncs, return_when=asyncio.FIRST_COMPLETED)
            waiters, self._waiters = self._waiters, []
            synced = bool(self._events) or bool(waiters)
            try:
                self._write_group()
            except sqlite3.Error as error:
                _settle(waiters, error)
                continue
            self.commits += 1
            if synced:
                # pipelined: a later fsync covers every earlier commit too, so a group never
                # waits for the previous group's fsync to finish before starting its own
                sync = asyncio.ensure_future(self._sync(waiters))
                syncs.add(sync)
                sync.add_done_callback(syncs.discard)

    async def _sync(self, waiters: list[asyncio.Future[None]]) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, _fsync, f"{self.path}-wal")
        except OSError as error:
            _settle(waiters, error)
            return
        _settle(waiters, None)

    def _write_group(self) -> None:
        assert self.db is not None, "EventLog.open() first"
        events, self._events = self._events, []
        outcomes, self._outcomes = self._outcomes, []
        cursors, self._cursors = list(self._cursors.values()), {}
        drops, self._drops = self._drops, []
        if not (events or outcomes or cursors or drops):
            return
        db = self.db
        db.execute("begin")
        try:
            if events:
                db.executemany(_INSERT_EVENT, events)
            if outcomes:
                db.executemany(_INSERT_OUTCOME, outcomes)
            if cursors:
                db.executemany(_UPSERT_CURSOR, cursors)
            for trigger in drops:
                db.execute("delete from cursors where trigger = ?", (trigger,))
            db.execute("commit")
        except BaseException:
            db.execute("rollback")
            raise

    # -- retention
    async def prune(self, chunk: int = 5000) -> int:
        """Apply the retention bounds; returns how many events were removed."""
        assert self.db is not None
        db = self.db
        head = self.head
        by_count = head - self.retention.max_events
        by_age = time.time() - self.retention.max_age_seconds
        removed = 0
        for namespace, broker in db.execute(
            "select distinct namespace, broker from events"
        ).fetchall():
            floor = db.execute(
                "select min(seq) from cursors where namespace = ? and broker = ?",
                (namespace, broker),
            ).fetchone()[0]
            floor = head if floor is None else floor
            while True:
                doomed = [
                    row[0]
                    for row in db.execute(
                        "select seq from events where namespace = ? and broker = ? and seq <= ?"
                        " and (seq <= ? or received < ?) limit ?",
                        (namespace, broker, floor, by_count, by_age, chunk),
                    )
                ]
                if not doomed:
                    break
                marks = ",".join("?" * len(doomed))
                db.execute("begin")
                db.execute(f"delete from deliveries where seq in ({marks})", doomed)
                db.execute(f"delete from events where seq in ({marks})", doomed)
                db.execute("commit")
                removed += len(doomed)
                await asyncio.sleep(0)
        return removed
