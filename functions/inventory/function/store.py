"""The inventory database (SQLModel): products with stock, reservations, processed events."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Column, Table, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from . import database
from .database import WarmEngine

# The seeded catalogue: sku -> (name, price in cents, stock).
SEED: dict[str, tuple[str, int, int]] = {
    "WIDGET-1": ("Widget", 1999, 100),
    "GADGET-2": ("Gadget", 4999, 10),
    "GIZMO-3": ("Gizmo (sold out)", 999, 0),
    "DELUXE-9": ("Deluxe set", 250000, 5),
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Product(SQLModel, table=True):
    __tablename__ = "products"

    sku: str = Field(primary_key=True)
    name: str
    price_cents: int
    stock: int


class Reservation(SQLModel, table=True):
    __tablename__ = "reservations"

    order_id: str = Field(primary_key=True)
    items: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    amount_cents: int
    status: str  # reserved | released
    updated_at: datetime = Field(default_factory=utcnow)


class ProcessedEvent(SQLModel, table=True):
    """An event already handled, with the reply it got (a redelivery gets the same one)."""

    __tablename__ = "processed_events"

    source: str = Field(primary_key=True)
    event_id: str = Field(primary_key=True)
    reply: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    processed_at: datetime = Field(default_factory=utcnow)


PRODUCTS: Table = Product.__table__  # type: ignore[attr-defined]
RESERVATIONS: Table = Reservation.__table__  # type: ignore[attr-defined]
PROCESSED: Table = ProcessedEvent.__table__  # type: ignore[attr-defined]
ANY_PRODUCT = select(PRODUCTS.c.sku).limit(1)
SEED_ROWS = [
    {"sku": sku, "name": name, "price_cents": price, "stock": stock}
    for sku, (name, price, stock) in SEED.items()
]


def connect(url: str, warm: WarmEngine | None = None) -> Engine:
    """An engine for ``url`` (``warm`` when it fits), prepared."""
    return prepare(database.connect(url, warm))


def prepare(engine: Engine) -> Engine:
    """``engine`` with the tables created and the catalogue seeded once (instances starting
    together may both find it empty: the second one's insert fails and is dropped)."""
    database.create_tables(SQLModel.metadata, engine)
    with engine.connect() as connection:
        if connection.execute(ANY_PRODUCT).first() is None:
            try:
                connection.execute(insert(PRODUCTS), SEED_ROWS)
                connection.commit()
            except IntegrityError:
                connection.rollback()  # another instance seeded it first
    return engine
