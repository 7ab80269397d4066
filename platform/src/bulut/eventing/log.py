"""The broker's durable log: SQLite in WAL mode with group commit.

Every accepted event is a row in ``events`` before the ingress answers 202: one
writer thread takes everything queued since its last commit and writes it in one
transaction with ``synchronous=FULL`` (the WAL is fsync'd at each commit), so a
burst of concurrent posts costs one fsync, not one each. Terminal delivery outcomes
go to ``deliveries`` and each trigger's low-water mark to ``cursors`` through the same
queue, in order, so a cursor never commits ahead of the outcomes below it.

After ``kill -9`` a trigger resumes from its cursor and skips events that already
have an outcome: every accepted event is delivered at least once. See
docs/adr/0008-durable-broker-log.md for the measurements behind the choice.
"""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .connections import Header

SCHEMA = """
create table if not exists events(
  seq integer primary key, namespace text not null, broker text not null,
  id text not null, source text not null, type text not null, ttl integer not null,
  attributes text not null, headers blob not null, body blob not null,
  received real not null);
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


@dataclass(frozen=True, slots=True)
class Retention:
    """How long delivered events stay in the log (newest ``max_events`` and ``max_age``).

    An event is removed only once every trigger of its broker is past it and it is
    outside *either* bound; undelivered events are never removed.
    """

    max_events: int = 100_000
    max_age_seconds: float = 7 * 86400.0
    interval_seconds: float = 30.0


@dataclass(slots=True)
class StoredEvent:
    """One event in the log, with its binary-mode encoding ready to send."""

    seq: int
    namespace: str
    broker: str
    id: str
    source: str
    type: str
    ttl: int
    attributes: dict[str, Any]
    headers: list[Header]
    body: bytes
    received: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The terminal result of delivering one event to one trigger."""

    seq: int
    trigger: str
    outcome: str  # delivered | replied | dead-lettered | failed
    attempts: int
    code: int
    destination: str
    detail: str = ""
    history: tuple[dict[str, Any], ...] = ()
    finished: float = field(default_factory=time.time)


def pack_headers(headers: Iterable[Header]) -> bytes:
    """Headers as ``name:value`` lines (values never contain a newline)."""
    return b"\n".join(name + b":" + value for name, value in headers)


def unpack_headers(blob: bytes) -> list[Header]:
    """Inverse of :func:`pack_headers`."""
    if not blob:
        return []
    pairs = (line.partition(b":") for line in blob.split(b"\n"))
    return [(name, value) for name, _, value in pairs]


def _row_to_event(row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(
        seq=row[0],
        namespace=row[1],
        broker=row[2],
        id=row[3],
        source=row[4],
        type=row[5],
        ttl=row[6],
        attributes=json.loads(row[7]),
        headers=unpack_headers(row[8]),
        body=row[9],
        received=row[10],
    )


_EVENT_COLUMNS = (
    "seq, namespace, broker, id, source, type, ttl, attributes, headers, body, received"
)

_Op = tuple[str, Any, "asyncio.Future[None] | None"]


class EventLog:
    """Append events durably, record outcomes and cursors, answer queries."""

    def __init__(self, path: Path, retention: Retention | None = None) -> None:
        self.path = path
        self.retention = retention or Retention()
        self._ops: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self._reader: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.head = 0
        self.commits = 0

    # -- lifecycle
    def open(self) -> None:
        """Create the schema, learn the head sequence and start the writer thread."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._loop = asyncio.get_running_loop()
        reader = self._connect()
        reader.executescript(SCHEMA)
        self.head = reader.execute("select coalesce(max(seq), 0) from events").fetchone()[0]
        self._reader = reader
        writer = self._connect()
        self._writer = threading.Thread(
            target=self._write_loop, args=(writer,), name="bulut-event-log", daemon=True
        )
        self._writer.start()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.execute("pragma journal_mode=wal")
        connection.execute("pragma synchronous=full")
        connection.execute("pragma busy_timeout=5000")
        return connection

    async def aclose(self) -> None:
        """Commit what is queued, stop the writer and close the connections."""
        if self._writer is not None:
            self._ops.put(None)
            await asyncio.to_thread(self._writer.join)
            self._writer = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    # -- writes
    def next_seq(self) -> int:
        """Reserve the next sequence number (event loop thread only)."""
        self.head += 1
        return self.head

    async def append(self, events: Sequence[StoredEvent]) -> None:
        """Write ``events`` (sequence numbers already reserved); return once fsync'd."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ops.put(("events", events, future))
        await future

    def record(self, outcome: Outcome) -> None:
        """Queue a terminal outcome (committed with the next group)."""
        self._ops.put(("outcome", outcome, None))

    def set_cursor(self, trigger: str, namespace: str, broker: str, seq: int) -> None:
        """Queue a trigger's low-water mark: every event <= seq is done for it."""
        self._ops.put(("cursor", (trigger, namespace, broker, seq), None))

    def drop_cursor(self, trigger: str) -> None:
        """Forget a deleted trigger."""
        self._ops.put(("drop", trigger, None))

    async def flush(self) -> None:
        """Wait until everything queued so far is committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ops.put(("flush", None, future))
        await future

    async def prune(self) -> int:
        """Apply the retention bounds now; returns how many events were removed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        box: list[int] = []
        self._ops.put(("prune", box, future))
        await future
        return box[0] if box else 0

    def _write_loop(self, connection: sqlite3.Connection) -> None:
        stop = False
        while not stop:
            ops = [self._ops.get()]
            while len(ops) < 8192:
                try:
                    ops.append(self._ops.get_nowait())
                except queue.Empty:
                    break
            if None in ops:
                stop = True
            real = [op for op in ops if op is not None]
            futures = [op[2] for op in real if op[2] is not None]
            error: BaseException | None = None
            try:
                self._write(connection, real)
            except sqlite3.Error as failure:
                error = failure
            self.commits += 1
            if futures and self._loop is not None:
                self._loop.call_soon_threadsafe(_settle, futures, error)
        connection.close()

    def _write(self, connection: sqlite3.Connection, ops: list[_Op]) -> None:
        rows: list[tuple[Any, ...]] = []
        outcomes: list[tuple[Any, ...]] = []
        cursors: dict[str, tuple[str, str, str, int]] = {}
        drops: list[str] = []
        prunes: list[list[int]] = []
        for kind, payload, _ in ops:
            if kind == "events":
                rows.extend(
                    (
                        e.seq, e.namespace, e.broker, e.id, e.source, e.type, e.ttl,
                        json.dumps(e.attributes), pack_headers(e.headers), e.body, e.received,
                    )
                    for e in payload
                )  # fmt: skip
            elif kind == "outcome":
                o: Outcome = payload
                outcomes.append(
                    (
                        o.seq, o.trigger, o.outcome, o.attempts, o.code, o.destination,
                        o.detail, json.dumps(list(o.history)), o.finished,
                    )
                )  # fmt: skip
            elif kind == "cursor":
                cursors[payload[0]] = payload
            elif kind == "drop":
                cursors.pop(payload, None)
                drops.append(payload)
            elif kind == "prune":
                prunes.append(payload)
        if not (rows or outcomes or cursors or drops or prunes):
            return
        connection.execute("begin")
        try:
            if rows:
                connection.executemany(
                    f"insert or replace into events({_EVENT_COLUMNS}) values (?,?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
            if outcomes:
                connection.executemany(
                    "insert or replace into deliveries values (?,?,?,?,?,?,?,?,?)", outcomes
                )
            if cursors:
                connection.executemany(
                    "insert into cursors values (?,?,?,?) on conflict(trigger) do update"
                    " set seq = max(seq, excluded.seq)",
                    list(cursors.values()),
                )
            for trigger in drops:
                connection.execute("delete from cursors where trigger = ?", (trigger,))
            for box in prunes:
                box.append(self._prune(connection))
            connection.execute("commit")
        except BaseException:
            connection.execute("rollback")
            raise

    def _prune(self, connection: sqlite3.Connection) -> int:
        head = connection.execute("select coalesce(max(seq), 0) from events").fetchone()[0]
        by_count = head - self.retention.max_events
        by_age = time.time() - self.retention.max_age_seconds
        removed = 0
        brokers = connection.execute("select distinct namespace, broker from events").fetchall()
        for namespace, broker in brokers:
            floor = connection.execute(
                "select min(seq) from cursors where namespace = ? and broker = ?",
                (namespace, broker),
            ).fetchone()[0]
            floor = head if floor is None else floor
            doomed = "namespace = ? and broker = ? and seq <= ? and (seq <= ? or received < ?)"
            args = (namespace, broker, floor, by_count, by_age)
            connection.execute(
                f"delete from deliveries where seq in (select seq from events where {doomed})",
                args,
            )
            removed += connection.execute(f"delete from events where {doomed}", args).rowcount
        return removed

    # -- reads
    async def read(self, query: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``query`` on the read connection in a worker thread."""

        def run() -> Any:
            assert self._reader is not None, "EventLog.open() first"
            with self._read_lock:
                return query(self._reader)

        return await asyncio.to_thread(run)

    async def cursor_of(self, trigger: str) -> int | None:
        """A trigger's stored low-water mark, if any."""
        row = await self.read(
            lambda c: c.execute("select seq from cursors where trigger = ?", (trigger,)).fetchone()
        )
        return None if row is None else int(row[0])

    async def undelivered(
        self, trigger: str, namespace: str, broker: str, after: int, upto: int, limit: int = 2000
    ) -> list[StoredEvent]:
        """Events of a broker in ``(after, upto]`` with no outcome for ``trigger``."""
        sql = (
            f"select {_EVENT_COLUMNS} from events e where namespace = ? and broker = ?"
            " and seq > ? and seq <= ? and not exists (select 1 from deliveries d"
            " where d.seq = e.seq and d.trigger = ?) order by seq limit ?"
        )
        args = (namespace, broker, after, upto, trigger, limit)
        rows = await self.read(lambda c: c.execute(sql, args).fetchall())
        return [_row_to_event(row) for row in rows]

    async def events_by_id(self, event_id: str) -> list[StoredEvent]:
        """Every logged event with this CloudEvents ``id`` (newest first)."""
        sql = f"select {_EVENT_COLUMNS} from events where id = ? order by seq desc"
        rows = await self.read(lambda c: c.execute(sql, (event_id,)).fetchall())
        return [_row_to_event(row) for row in rows]

    async def event_at(self, seq: int) -> StoredEvent | None:
        """The event with this sequence number, if retained."""
        sql = f"select {_EVENT_COLUMNS} from events where seq = ?"
        row = await self.read(lambda c: c.execute(sql, (seq,)).fetchone())
        return None if row is None else _row_to_event(row)

    async def outcomes_of(self, seq: int) -> list[dict[str, Any]]:
        """Recorded outcomes of one event, per trigger."""
        sql = (
            "select trigger, outcome, attempts, code, destination, detail, history, finished"
            " from deliveries where seq = ? order by trigger"
        )
        rows = await self.read(lambda c: c.execute(sql, (seq,)).fetchall())
        return [_outcome_dict(row) for row in rows]

    async def dead_letters(self, trigger: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Deliveries that ended dead-lettered or failed, newest first."""
        sql = (
            "select d.trigger, d.outcome, d.attempts, d.code, d.destination, d.detail, d.history,"
            " d.finished, e.seq, e.id, e.source, e.type from deliveries d join events e"
            " on e.seq = d.seq where d.outcome in ('dead-lettered', 'failed')"
            + (" and d.trigger = ?" if trigger else "")
            + " order by d.finished desc limit ?"
        )
        args: tuple[Any, ...] = (trigger, limit) if trigger else (limit,)
        rows = await self.read(lambda c: c.execute(sql, args).fetchall())
        result = []
        for row in rows:
            entry = _outcome_dict(row[:8])
            entry.update(seq=row[8], id=row[9], source=row[10], type=row[11])
            result.append(entry)
        return result


def _outcome_dict(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "trigger": row[0],
        "outcome": row[1],
        "attempts": row[2],
        "code": row[3],
        "destination": row[4],
        "detail": row[5],
        "history": json.loads(row[6]),
        "finished": row[7],
    }


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
