"""The payments database (SQLModel): payments made, and events already processed."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Column, Table
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel

from . import database
from .database import WarmEngine


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Payment(SQLModel, table=True):
    __tablename__ = "payments"

    order_id: str = Field(primary_key=True)
    payment_id: str | None = None
    amount_cents: int
    currency: str
    status: str  # authorized | declined
    reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "processed_events"

    source: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
    reply: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    processed_at: datetime = Field(default_factory=utcnow)


PAYMENTS: Table = Payment.__table__  # type: ignore[attr-defined]
PROCESSED: Table = ProcessedEvent.__table__  # type: ignore[attr-defined]


def connect(url: str, warm: WarmEngine | None = None) -> Engine:
    """An engine for ``url`` (``warm`` when it fits), prepared."""
    return prepare(database.connect(url, warm))


def prepare(engine: Engine) -> Engine:
    """``engine`` with the tables created (whichever instance starting with it does)."""
    database.create_tables(SQLModel.metadata, engine)
    return engine
