"""Finished spans and the local span store (SQLite under ``state_dir/traces.db``).

The store is bounded: it keeps the newest ``max_spans`` spans and forgets older ones a
whole trace at a time. It counts what it holds itself and, once past the bound, forgets the
oldest traces until a tenth of the bound is free, finding them by the start index and
deleting by start range (counting the table on every flush and deleting through an
``IN (subquery)`` that walked the whole primary key cost ~110 µs of CPU per span at the
bound; now ~35, ``bench/bench_edge_tracing.py``). Spans are written in batches (one
transaction per flush), and a ``span_keys`` table maps CloudEvent ids and subjects (an order
id is the subject of the saga's events) to the traces they appear in, so ``bulut trace``
accepts any of them.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

AttributeValue = str | int | float | bool
SpanKind = Literal["internal", "server", "client", "producer", "consumer"]
LOOKUP_ATTRIBUTES = ("cloudevents.event_id", "cloudevents.event_subject")
DEFAULT_MAX_SPANS = 100_000
TRACES_FILE = "traces.db"  # under the state directory
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")

_SCHEMA = """
create table if not exists spans (
    trace_id text not null, span_id text not null, parent_id text not null,
    name text not null, kind text not null, service text not null,
    start_ns integer not null, end_ns integer not null,
    error integer not null, status_message text not null, attributes text not null,
    primary key (trace_id, span_id)
);
create index if not exists spans_by_start on spans (start_ns);
drop table if exists lookup;
create table if not exists span_keys (key text not null, trace_id text not null,
    start_ns integer not null, primary key (key, trace_id));
create index if not exists span_keys_by_start on span_keys (start_ns);
"""


@dataclass(frozen=True, slots=True)
class FinishedSpan:
    """One ended span: what is stored, exported and shown."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    start_ns: int
    end_ns: int
    kind: SpanKind = "internal"
    service: str = "bulut"
    error: bool = False
    status_message: str = ""
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)

    @property
    def duration_ms(self) -> float:
        """How long it lasted, in milliseconds."""
        return (self.end_ns - self.start_ns) / 1e6

    def lookup_keys(self) -> list[str]:
        """The ids this span can be found by (CloudEvent id and subject)."""
        return [str(self.attributes[a]) for a in LOOKUP_ATTRIBUTES if self.attributes.get(a)]


def is_trace_id(text: str) -> bool:
    """True for 32 lowercase hex digits."""
    return bool(_TRACE_ID.match(text))


class SpanStore:
    """Spans in SQLite (WAL), bounded to the newest ``max_spans``."""

    def __init__(self, path: Path, *, max_spans: int = DEFAULT_MAX_SPANS) -> None:
        self.path = path
        self.max_spans = max_spans
        self._db: sqlite3.Connection | None = None
        self._count: int | None = None  # spans stored, as far as this store knows

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("pragma journal_mode=wal")
            db.execute("pragma synchronous=normal")
            db.executescript(_SCHEMA)
            self._db = db
        return self._db

    def write(self, spans: Sequence[FinishedSpan]) -> None:
        """Store spans in one transaction, then drop the oldest traces beyond the bound."""
        if not spans:
            return
        db = self._connection()
        rows = [
            (
                s.trace_id, s.span_id, s.parent_id, s.name, s.kind, s.service, s.start_ns,
                s.end_ns, int(s.error), s.status_message, json.dumps(dict(s.attributes)),
            )
            for s in spans
        ]  # fmt: skip
        keys = {(key, s.trace_id, s.start_ns) for s in spans for key in s.lookup_keys()}
        db.execute("begin")
        try:
            if self._count is None:
                self._count = _stored(db)
            db.executemany("insert or replace into spans values (?,?,?,?,?,?,?,?,?,?,?)", rows)
            db.executemany("insert or ignore into span_keys values (?, ?, ?)", sorted(keys))
            self._count += len(rows)  # an upper bound: a replaced span is counted twice
            if self._count > self.max_spans:
                self._count = self._prune(db)
            db.execute("commit")
        except BaseException:
            self._count = None  # counted again on the next write
            db.execute("rollback")
            raise

    def _prune(self, db: sqlite3.Connection) -> int:
        """Forget the oldest traces until a tenth of the bound is free; the spans left."""
        count = _stored(db)
        if count <= self.max_spans:
            return count
        excess = count - (self.max_spans - self.max_spans // 10)
        cutoff = db.execute(
            "select start_ns from spans order by start_ns limit 1 offset ?", (excess - 1,)
        ).fetchone()
        # the old traces by the start index (as a subquery SQLite walks the whole primary
        # key), their spans by start range, then what they have later; keys by start range
        # (a key left of a forgotten trace finds nothing and goes with a later prune)
        traces = db.execute(
            "select distinct trace_id from spans indexed by spans_by_start where start_ns <= ?",
            cutoff,
        ).fetchall()
        deleted = db.execute("delete from spans where start_ns <= ?", cutoff).rowcount
        before = db.total_changes
        db.executemany("delete from spans where trace_id = ?", traces)
        deleted += db.total_changes - before
        db.execute("delete from span_keys where start_ns <= ?", cutoff)
        return count - deleted

    def trace(self, trace_id: str) -> list[FinishedSpan]:
        """Every stored span of one trace, oldest first."""
        rows = self._connection().execute(
            "select * from spans where trace_id = ? order by start_ns", (trace_id,)
        )
        return [_span(row) for row in rows.fetchall()]

    def find(self, ident: str) -> list[str]:
        """Trace ids for a trace id, a CloudEvent id or an event subject (newest first)."""
        db = self._connection()
        if is_trace_id(ident.lower()):
            found = db.execute("select 1 from spans where trace_id = ? limit 1", (ident.lower(),))
            if found.fetchone():
                return [ident.lower()]
        rows = db.execute(
            "select l.trace_id, max(s.start_ns) as last from span_keys l join spans s"
            " on s.trace_id = l.trace_id where l.key = ? group by l.trace_id order by last desc",
            (ident,),
        )
        return [str(row[0]) for row in rows.fetchall()]

    def recent(self, limit: int = 20) -> list[FinishedSpan]:
        """The root span (or earliest span) of the newest traces."""
        rows = self._connection().execute(
            "select * from spans where rowid in (select rowid from spans s where start_ns ="
            " (select min(start_ns) from spans where trace_id = s.trace_id))"
            " order by start_ns desc limit ?",
            (limit,),
        )
        return [_span(row) for row in rows.fetchall()]

    def count(self) -> int:
        """Stored spans."""
        (count,) = self._connection().execute("select count(*) from spans").fetchone()
        return int(count)

    def close(self) -> None:
        """Close the database."""
        if self._db is not None:
            self._db.close()
            self._db = None
            self._count = None


def _stored(db: sqlite3.Connection) -> int:
    (count,) = db.execute("select count(*) from spans").fetchone()
    return int(count)


def _span(row: Iterable[object]) -> FinishedSpan:
    (trace_id, span_id, parent_id, name, kind, service, start, end, error, message, attrs) = row
    return FinishedSpan(
        trace_id=str(trace_id),
        span_id=str(span_id),
        parent_id=str(parent_id),
        name=str(name),
        kind=kind,  # type: ignore[arg-type]
        service=str(service),
        start_ns=int(start),  # type: ignore[call-overload]
        end_ns=int(end),  # type: ignore[call-overload]
        error=bool(error),
        status_message=str(message),
        attributes=json.loads(str(attrs)),
    )
