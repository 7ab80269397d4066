"""The orders database (SQLModel): orders and the history of saga events seen for each.

The customer's e-mail address is personal data and lives in exactly one column,
``order.email``; with Vault configured it and ``order.card_token`` hold Transit ciphertext
(``vault:vN:...``), never the clear value (see pii.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Column, Table, UniqueConstraint, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from . import database
from .database import WarmEngine


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Order(SQLModel, table=True):
    __tablename__ = "orders"

    id: str = Field(primary_key=True)
    customer: str
    email: str | None = None  # PII: the only place it is stored
    card_token: str  # Transit ciphertext under CARD_TRANSIT_KEY (payments decrypts it)
    items: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    status: str
    amount_cents: int | None = None
    currency: str | None = None
    reason: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class OrderEvent(SQLModel, table=True):
    """One CloudEvent seen for an order; (source, event_id) is unique (idempotency)."""

    __tablename__ = "order_events"
    __table_args__ = (UniqueConstraint("source", "event_id"),)

    seq: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(index=True)
    event_id: str
    source: str
    type: str
    status: str
    received_at: datetime = Field(default_factory=utcnow)


ORDERS: Table = Order.__table__  # type: ignore[attr-defined]
ORDER_EVENTS: Table = OrderEvent.__table__  # type: ignore[attr-defined]
# What an accepted order writes, and what readiness asks: Core statements built once (the
# ORM's unit of work cost about twice the CPU, on each instance's first order too).
ADD_ORDER = insert(ORDERS)
ADD_EVENT = insert(ORDER_EVENTS)
ANY_ORDER = select(ORDERS.c.id).limit(1)


def row_of(model: SQLModel, table: Table) -> dict[str, Any]:
    """The columns of ``model`` as ``table``'s row; a primary key not set yet is left out
    (the database numbers it)."""
    row = {column.name: getattr(model, column.name) for column in table.columns}
    return {
        name: value
        for name, value in row.items()
        if value is not None or not table.columns[name].primary_key
    }


def connect(url: str, warm: WarmEngine | None = None) -> Engine:
    """An engine for ``url`` (SQLite or any SQLAlchemy URL; ``warm`` when it fits), prepared."""
    return prepare(database.connect(url, warm))


def prepare(engine: Engine) -> Engine:
    """``engine`` with the tables created (whichever instance starting with it does)."""
    database.create_tables(SQLModel.metadata, engine)
    return engine


class OrderStore:
    """Queries and transactions over the orders database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, order: Order, created_event: OrderEvent) -> None:
        with self.engine.begin() as connection:
            connection.execute(ADD_ORDER, row_of(order, ORDERS))
            connection.execute(ADD_EVENT, row_of(created_event, ORDER_EVENTS))

    def get(self, order_id: str) -> tuple[Order, list[OrderEvent]] | None:
        with Session(self.engine, expire_on_commit=False) as session:
            order = session.get(Order, order_id)
            if order is None:
                return None
            history = session.exec(
                select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.seq)
            ).all()
            session.expunge_all()
            return order, list(history)

    def record(
        self,
        order_id: str,
        *,
        event_id: str,
        source: str,
        type: str,
        apply: Callable[[Order], None],
    ) -> Order | None:
        """Apply one saga event once: ``apply(order)`` updates the order in place.

        Returns the order (unchanged if the event was seen before), or None if unknown.
        """
        with Session(self.engine, expire_on_commit=False) as session:
            order = session.get(Order, order_id)
            if order is None:
                return None
            seen = session.exec(
                select(OrderEvent).where(
                    OrderEvent.source == source, OrderEvent.event_id == event_id
                )
            ).first()
            if seen is None:
                apply(order)
                order.updated_at = utcnow()
                session.add(order)
                session.add(
                    OrderEvent(
                        order_id=order_id,
                        event_id=event_id,
                        source=source,
                        type=type,
                        status=order.status,
                    )
                )
                try:
                    session.commit()
                except IntegrityError:  # a concurrent redelivery won the race
                    session.rollback()
                order = session.get(Order, order_id) or order
                session.refresh(order)
            session.expunge(order)
            return order

    def ping(self) -> bool:
        with self.engine.connect() as connection:
            connection.execute(ANY_ORDER).first()
        return True
