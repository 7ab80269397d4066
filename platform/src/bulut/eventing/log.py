"""The broker's durable log: SQLite in WAL mode with group commit.

Every accepted event is a row in ``events`` before the ingress answers 202. Rows are
written on the event loop (a WAL append costs microseconds) and made durable by one
``fsync`` of the WAL file in a helper process (:mod:`.walsync`: its completion reaches
the loop as socket readiness, with no GIL hand-off); while that fsync runs, new events
queue up and go out together in the next group, so a burst of concurrent posts costs one
fsync, not one each. (SQLite's own ``synchronous=FULL`` does the same fsync, but a
writer thread pays a GIL hand-off on every row, which made p50 latency several times
worse under load; see docs/adr/0008-durable-broker-log.md.)

Terminal delivery outcomes go to ``deliveries`` and each trigger's low-water mark to
``cursors`` through the same groups, in order, so a cursor never commits ahead of the
outcomes below it. Groups are settled (their senders answered, their events offered
to the triggers) in commit order even when their fsyncs finish out of order, so no
cursor passes an event not yet offered. After ``kill -9`` a trigger resumes from its
cursor and skips events that already have an outcome: every accepted event is delivered
at least once.

A group whose write fails is written again one submission at a time (a savepoint each):
a record the database refuses fails only the request that sent it, never its neighbours
in the group (a poison-pill event once dropped a whole group and left its senders waiting).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bulut.events.json_codec import dumps

from .records import Outcome, Retention, StoredEvent, pack_headers
from .walsync import WalSyncer

SCHEMA = """
create table if not exists events(
  seq integer primary key, namespace text not null, broker text not null,
  id text not null, source text not null, type text not null, ttl integer not null,
  headers blob not null, body blob not null, received real not null);
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


_BROKERS = "select distinct namespace, broker from events"
_FLOOR = "select min(seq) from cursors where namespace = ? and broker = ?"
_DOOMED = (
    "select seq from events where namespace = ? and broker = ? and seq <= ?"
    " and (seq <= ? or received < ?) order by seq limit ?"
)

MAX_SYNCS_IN_FLIGHT = 2
PRUNE_PAUSE = 0.05  # between deletes of one chunk: at most 10,000 rows a second
CHECKPOINT_INTERVAL = 1.0
log = logging.getLogger(__name__)
T = TypeVar("T")


Committed = Callable[[BaseException | None], None]
"""Called once a group is durable (``None``) or failed (the ``sqlite3``/``OS`` error)."""


@dataclass(slots=True)
class _Group:
    """One group's commit callbacks, waiting for an fsync that covers the group."""

    waiters: list[Committed]
    finished: bool = False
    error: OSError | None = None


def _settle(waiters: list[Committed], error: BaseException | None) -> None:
    for waiter in waiters:
        try:
            waiter(error)
        except Exception:  # one caller's bug must not leave the rest of the group waiting
            log.exception("event log: a commit callback failed")


def _savepoint(db: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]]) -> Exception | None:
    """``executemany`` under a savepoint: all rows or none; the error if none."""
    db.execute("savepoint submission")
    try:
        db.executemany(sql, rows)
    except Exception as error:  # sqlite3.Error, OverflowError, ValueError: the record's fault
        db.execute("rollback to submission")
        db.execute("release submission")
        return error
    db.execute("release submission")
    return None


def _rows(sql: str, params: tuple[Any, ...], db: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return db.execute(sql, params).fetchall()


def _resolve(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(sqlite3.OperationalError(str(error)))


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
        self._waiters: list[Committed] = []
        self._sizes: list[int] = []  # how many of ``_events`` each waiter submitted
        self._flusher: asyncio.Task[None] | None = None
        self._syncer: WalSyncer | None = None
        self._in_flight = 0  # fsyncs running in the syncer's helper process
        self._slots: list[asyncio.Future[None]] = []  # woken whenever an fsync finishes
        self._unsettled: deque[_Group] = deque()  # groups committed, in commit order
        self._checkpointer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None  # retention scans, off the loop
        self._reading = threading.Lock()
        self._checkpointing = threading.Lock()
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
        # ids are not indexed: an index on random ids made every insert touch a random
        # page (about 8x the WAL bytes per event) for the admin's lookups, now scans
        db.execute("drop index if exists events_by_id")
        self.head = db.execute("select coalesce(max(seq), 0) from events").fetchone()[0]
        self.db = db
        _fsync(str(self.path.parent))
        self._checkpointer = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False
        )
        loop = asyncio.get_running_loop()
        self._syncer = WalSyncer(loop, f"{self.path}-wal", MAX_SYNCS_IN_FLIGHT, self._synced)
        self._syncer.start()
        self._checkpoints = loop.create_task(self._checkpoint_forever())

    async def _checkpoint_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL)
            try:
                await loop.run_in_executor(None, self._checkpoint)
            except sqlite3.Error as error:
                log.warning("event log checkpoint failed: %s", error)

    def _checkpoint(self) -> None:
        with self._checkpointing:  # aclose may be closing the connection meanwhile
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
            await asyncio.gather(self._flusher, return_exceptions=True)
        while self._in_flight:
            await self._slot()
        if self._syncer is not None:
            self._syncer.close()
            self._syncer = None
        with self._checkpointing:  # a checkpoint still running in its thread ends first
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None
        with self._reading:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        if self.db is not None:
            self.db.close()
            self.db = None

    # -- writes
    def next_seq(self) -> int:
        """Reserve the next sequence number."""
        self.head += 1
        return self.head

    def submit(self, events: Iterable[StoredEvent], committed: Committed) -> None:
        """Queue ``events`` (sequence numbers already reserved) for the next group.

        ``committed(None)`` is called once they are fsync'd, ``committed(error)`` if the
        group failed: the HTTP ingress answers from there, with no task per request.
        """
        before = len(self._events)
        self._events += [
            (e.seq, e.namespace, e.broker, e.id, e.source, e.type, e.ttl,
             pack_headers(e.headers), e.body, e.received)
            for e in events
        ]  # fmt: skip
        self._sizes.append(len(self._events) - before)
        self._waiters.append(committed)
        self._kick()

    async def append(self, events: Iterable[StoredEvent]) -> None:
        """Write ``events`` (sequence numbers already reserved); return once fsync'd."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.submit(events, partial(_resolve, future))
        await future

    def record(self, outcome: Outcome) -> None:
        """Queue a terminal outcome (committed with the next group)."""
        o = outcome
        self._outcomes.append(
            (o.seq, o.trigger, o.outcome, o.attempts, o.code, o.destination, o.detail,
             dumps(list(o.history)).decode(), o.finished)
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
        self._sizes.append(0)
        self._waiters.append(partial(_resolve, future))
        self._kick()
        await future

    def _kick(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_groups())

    async def _flush_groups(self) -> None:
        while self._events or self._outcomes or self._cursors or self._drops or self._waiters:
            await asyncio.sleep(0)  # let this tick's appends join the group
            while self._in_flight >= MAX_SYNCS_IN_FLIGHT:
                await self._slot()
            waiters, self._waiters = self._waiters, []
            sizes, self._sizes = self._sizes, []
            synced = bool(self._events) or bool(waiters)
            try:
                refused = self._write_group(sizes)
            except Exception as error:  # the database itself failed: the whole group did
                log.error("event log: a group write failed: %s", error)
                _settle(waiters, error)
                continue
            if refused:
                for index, reason in refused.items():
                    _settle([waiters[index]], sqlite3.IntegrityError(f"refused: {reason}"))
                waiters = [w for index, w in enumerate(waiters) if index not in refused]
            self.commits += 1
            if synced:
                # pipelined: a later fsync covers every earlier commit too, so a group never
                # waits for the previous group's fsync to finish before starting its own
                self._start_sync(waiters)

    def _slot(self) -> asyncio.Future[None]:
        """A future resolved when the next fsync finishes."""
        slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._slots.append(slot)
        return slot

    def _start_sync(self, waiters: list[Committed]) -> None:
        assert self._syncer is not None, "EventLog.open() first"
        group = _Group(waiters)
        self._unsettled.append(group)
        self._in_flight += 1
        self._syncer.submit(group)

    def _synced(self, group: _Group, error: OSError | None) -> None:
        """One fsync finished: settle the groups it made durable, in commit order.

        Two fsyncs run at once and may finish out of order. A group is never settled
        before one committed ahead of it (its callbacks offer its events to the triggers,
        whose cursors must not pass an event not offered yet). An fsync that succeeded
        began after every earlier group's commit, so it makes them durable too.
        """
        self._in_flight -= 1
        slots, self._slots = self._slots, []
        for slot in slots:
            if not slot.done():
                slot.set_result(None)
        if group.finished:  # a later fsync settled it already
            return
        group.finished, group.error = True, error
        unsettled = self._unsettled
        if error is None:
            for earlier in unsettled:
                if earlier is group:
                    break
                earlier.finished = True
        while unsettled and unsettled[0].finished:
            settled = unsettled.popleft()
            _settle(settled.waiters, settled.error)

    def _write_group(self, sizes: list[int]) -> dict[int, Exception]:
        """Write what is queued in one transaction; the submissions refused, by index.

        ``sizes[i]`` is how many queued events the i-th waiter submitted. When the group's
        write fails, it is written again with one savepoint per submission, so a record
        SQLite refuses (an integer too large, a bad blob) fails only its own submission.
        """
        assert self.db is not None, "EventLog.open() first"
        events, self._events = self._events, []
        outcomes, self._outcomes = self._outcomes, []
        cursors, self._cursors = list(self._cursors.values()), {}
        drops, self._drops = self._drops, []
        if not (events or outcomes or cursors or drops):
            return {}
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
        except Exception:
            db.execute("rollback")
        else:
            return {}
        return self._write_apart(events, sizes, outcomes, cursors, drops)

    def _write_apart(
        self,
        events: list[tuple[Any, ...]],
        sizes: list[int],
        outcomes: list[tuple[Any, ...]],
        cursors: list[tuple[str, str, str, int]],
        drops: list[str],
    ) -> dict[int, Exception]:
        """The group again, each submission under its own savepoint (the slow path)."""
        assert self.db is not None, "EventLog.open() first"
        db = self.db
        refused: dict[int, Exception] = {}
        db.execute("begin")
        try:
            start = 0
            for index, size in enumerate(sizes):
                rows, start = events[start : start + size], start + size
                if rows and (error := _savepoint(db, _INSERT_EVENT, rows)) is not None:
                    log.warning("event log: a submission was refused: %s", error)
                    refused[index] = error
            for sql, rows in ((_INSERT_OUTCOME, outcomes), (_UPSERT_CURSOR, cursors)):
                if rows and (error := _savepoint(db, sql, rows)) is not None:
                    log.error("event log: outcomes or cursors were refused: %s", error)
            for trigger in drops:
                db.execute("delete from cursors where trigger = ?", (trigger,))
            db.execute("commit")
        except BaseException:
            db.execute("rollback")
            raise
        return refused

    # -- retention
    async def prune(self, chunk: int = 500) -> int:
        """Apply the retention bounds; returns how many events were removed.

        The scans (which brokers have events, which events are doomed) run on a reader
        connection in a worker thread; the loop only deletes, ``chunk`` rows at a time
        and at most ``chunk / PRUNE_PAUSE`` rows a second, so pruning a large backlog
        neither stalls the loop nor floods the WAL that the ingress's fsyncs must flush.
        """
        assert self.db is not None, "EventLog.open() first"
        db = self.db
        head = self.head
        by_count = head - self.retention.max_events
        by_age = time.time() - self.retention.max_age_seconds
        removed = 0
        brokers = await self.read(partial(_rows, _BROKERS, ()))
        for namespace, broker in brokers:
            floor = db.execute(_FLOOR, (namespace, broker)).fetchone()[0]
            floor = head if floor is None else floor
            while True:
                params = (namespace, broker, floor, by_count, by_age, chunk)
                doomed = [row[0] for row in await self.read(partial(_rows, _DOOMED, params))]
                if not doomed:
                    break
                marks = ",".join("?" * len(doomed))
                db.execute("begin")
                try:
                    db.execute(f"delete from deliveries where seq in ({marks})", doomed)
                    db.execute(f"delete from events where seq in ({marks})", doomed)
                    db.execute("commit")
                except BaseException:
                    db.execute("rollback")
                    raise
                removed += len(doomed)
                await asyncio.sleep(PRUNE_PAUSE)
        return removed

    async def read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``query`` on a reader connection in a worker thread, off the loop.

        For scans (retention, the admin's lookups by id): a WAL reader sees what was
        committed and never blocks the loop's writes.
        """
        return await asyncio.get_running_loop().run_in_executor(None, self._on_reader, query)

    def _on_reader(self, query: Callable[[sqlite3.Connection], T]) -> T:
        with self._reading:
            if self._reader is None:
                self._reader = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False
                )
            return query(self._reader)
