"""The audit log (SQLModel): one row per event, appended once per (source, id), never changed.

Events that arrive together are committed together (:meth:`AuditLog.append_soon`): each
request waits for the transaction holding its row, so every event is stored before it is
answered, and a busy instance pays one transaction for many events instead of one each.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Insert, UniqueConstraint
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from . import database
from .database import WarmEngine


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("source", "event_id"),)

    seq: int | None = Field(default=None, primary_key=True)
    source: str
    event_id: str
    type: str
    subject: str | None = None
    time: str | None = None
    attributes: str  # JSON of every attribute, extensions included
    data: str | None = None  # JSON, or text for non-JSON payloads
    received_at: datetime = Field(default_factory=utcnow)


def connect(url: str, warm: WarmEngine | None = None) -> Engine:
    """An engine for ``url`` (``warm`` when it fits), prepared."""
    return prepare(database.connect(url, warm))


def prepare(engine: Engine) -> Engine:
    """``engine`` with the table created."""
    database.create_tables(SQLModel.metadata, engine)
    return engine


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.insert_once = insert_once(engine)
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []

    def append(self, event: Any) -> bool:
        """Append ``event`` in a transaction of its own; False when (source, id) is already
        in the log."""
        return self.append_rows([row_of(event)])[0]

    async def append_soon(self, event: Any) -> bool:
        """Append ``event`` in one transaction with the events that arrived in the same turn
        of the event loop; returns once that transaction committed (False: already logged).
        If it fails, every request waiting on it gets the error (the broker delivers again)."""
        loop = asyncio.get_running_loop()
        if not self._waiting:  # the first of this turn commits everyone's, after the turn
            loop.call_soon(self._commit_waiting)
        done: asyncio.Future[bool] = loop.create_future()
        self._waiting.append((row_of(event), done))
        return await done

    def _commit_waiting(self) -> None:
        batch, self._waiting = self._waiting, []
        try:
            appended = self.append_rows([row for row, _ in batch])
        except Exception as error:  # each waiting request fails with it
            for _, done in batch:
                if not done.done():
                    done.set_exception(error)
            return
        for (_, done), added in zip(batch, appended, strict=True):
            if not done.done():
                done.set_result(added)

    def append_rows(self, rows: list[dict[str, Any]]) -> list[bool]:
        """Insert rows in one transaction; for each, whether it was new."""
        if self.insert_once is None:
            return [self._append_entry(row) for row in rows]
        if len(rows) > 1 and self.engine.dialect.supports_sane_multi_rowcount:
            # One executemany for the batch (a third of the CPU of a statement per row);
            # when not every row was new, nothing is kept and each row is tried alone.
            with self.engine.connect() as connection, connection.begin() as transaction:
                if connection.execute(self.insert_once, rows).rowcount == len(rows):
                    return [True] * len(rows)
                transaction.rollback()
        with self.engine.begin() as connection:  # one statement each: the unique key decides
            execute = connection.execute
            return [execute(self.insert_once, row).rowcount == 1 for row in rows]

    def _append_entry(self, row: dict[str, Any]) -> bool:
        """The ORM's way, for databases without ``ON CONFLICT``: look, then add."""
        entry = AuditEntry(**row)
        with Session(self.engine) as session:
            exists = session.exec(
                select(AuditEntry.seq).where(
                    AuditEntry.source == entry.source, AuditEntry.event_id == entry.event_id
                )
            ).first()
            if exists is not None:
                return False
            session.add(entry)
            try:
                session.commit()
            except IntegrityError:  # a concurrent redelivery got there first
                session.rollback()
                return False
        return True

    def entries(self) -> list[AuditEntry]:
        with Session(self.engine) as session:
            return list(session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all())


def row_of(event: Any) -> dict[str, Any]:
    """The audit_log row of a CloudEvent."""
    attributes = {k: _text(v) for k, v in event.get_attributes().items()}
    return {
        "source": event.get_source(),
        "event_id": event.get_id(),
        "type": event.get_type(),
        "subject": event.get_subject(),
        "time": attributes.get("time"),
        "attributes": json.dumps(attributes, sort_keys=True),
        "data": _data(event.get_data()),
        "received_at": utcnow(),
    }


def insert_once(engine: Engine) -> Insert | None:
    """``INSERT ... ON CONFLICT (source, event_id) DO NOTHING`` on SQLite and PostgreSQL (a
    redelivered event inserts no row); None elsewhere (the ORM checks first)."""
    name = engine.dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        return None
    table = AuditEntry.__table__
    return insert(table).on_conflict_do_nothing(index_elements=["source", "event_id"])


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _data(data: Any) -> str | None:
    if data is None:
        return None
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    if isinstance(data, str):
        return data
    return json.dumps(data, sort_keys=True)
