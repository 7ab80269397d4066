"""Inventory decisions: reserve stock for an order, release it on a declined payment.

Each incoming event is handled once per (source, id) in one transaction together with its
effects; the reply is stored with it, so a redelivered event gets the same reply (same id)
and changes nothing.

The transaction is a few SQLAlchemy Core statements, each built once (below) and compiled
once per engine, on one connection: the ORM's session, identity map and unit of work cost
about three times as much CPU per event, on every instance's first event too.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from .store import PROCESSED, PRODUCTS, RESERVATIONS, utcnow

log = logging.getLogger(__name__)

SOURCE = "/inventory"
CURRENCY = "EUR"
ORDER_CREATED = "com.example.order.created"
PAYMENT_DECLINED = "com.example.payment.declined"
RESERVED = "com.example.inventory.reserved"
REJECTED = "com.example.inventory.rejected"
RELEASED = "com.example.inventory.released"

Reply = dict[str, Any]  # {"type", "id", "subject", "data"}

# The statements of a transaction. Parameters are named apart from the columns: a name an
# UPDATE's SET clause could take is reserved for it.
SEEN = select(PROCESSED.c.reply).where(
    PROCESSED.c.source == bindparam("seen_source"),
    PROCESSED.c.event_id == bindparam("seen_id"),
)
RECORD = insert(PROCESSED)
RESERVATION = select(
    RESERVATIONS.c["items"], RESERVATIONS.c.amount_cents, RESERVATIONS.c.status
).where(RESERVATIONS.c.order_id == bindparam("order"))
ADD_RESERVATION = insert(RESERVATIONS)
CHANGE_RESERVATION = update(RESERVATIONS).where(RESERVATIONS.c.order_id == bindparam("order"))
PRICE = select(PRODUCTS.c.price_cents).where(PRODUCTS.c.sku == bindparam("wanted_sku"))
STOCK = select(PRODUCTS.c.stock).where(PRODUCTS.c.sku == bindparam("wanted_sku"))
TAKE = (
    update(PRODUCTS)
    .where(PRODUCTS.c.sku == bindparam("wanted_sku"), PRODUCTS.c.stock >= bindparam("quantity"))
    .values(stock=PRODUCTS.c.stock - bindparam("quantity"))
)
PUT_BACK = (
    update(PRODUCTS)
    .where(PRODUCTS.c.sku == bindparam("wanted_sku"))
    .values(stock=PRODUCTS.c.stock + bindparam("quantity"))
)


class Inventory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def process(self, event: Any) -> Reply | None:
        """The reply to ``event`` (a CloudEvent), or None when there is nothing to say."""
        key = {"seen_source": event.get_source(), "seen_id": event.get_id()}
        with self.engine.connect() as connection:
            seen = connection.execute(SEEN, key).first()
            if seen is not None:
                log.info(
                    "event %s from %s seen before: same reply", key["seen_id"], key["seen_source"]
                )
                return seen.reply
            reply = self._decide(connection, event)
            try:
                connection.execute(
                    RECORD,
                    {
                        "source": key["seen_source"],
                        "event_id": key["seen_id"],
                        "reply": reply,
                        "processed_at": utcnow(),
                    },
                )
                connection.commit()
            except IntegrityError:  # a concurrent redelivery committed first
                connection.rollback()
                seen = connection.execute(SEEN, key).first()
                return seen.reply if seen else None
            return reply

    def _decide(self, connection: Connection, event: Any) -> Reply | None:
        data = event.get_data()
        if event.get_type() == ORDER_CREATED:
            return self._reserve(connection, event, data if isinstance(data, dict) else {})
        if event.get_type() == PAYMENT_DECLINED:
            return self._release(connection, event, data if isinstance(data, dict) else {})
        log.info("ignoring event type %s", event.get_type())
        return None

    def _reserve(self, connection: Connection, event: Any, order: dict[str, Any]) -> Reply:
        order_id = str(order.get("id") or event.get_subject() or "")
        found = connection.execute(RESERVATION, {"order": order_id}).first()
        existing = None if found is None else found._mapping
        if existing is not None and existing["status"] == "reserved":
            return _reply(event, RESERVED, order_id, _reserved_data(order, order_id, existing))
        problem = _invalid_items(order.get("items"))
        if problem or not order_id:
            return _reply(event, REJECTED, order_id, _rejected(order, problem or "no order id"))
        lines: list[dict[str, Any]] = []
        for item in order["items"]:
            wanted = {"wanted_sku": item["sku"], "quantity": int(item["quantity"])}
            price = connection.execute(PRICE, wanted).scalar()
            if price is None:
                connection.rollback()  # the lines taken so far go back
                reason = f"unknown sku {item['sku']}"
                return _reply(event, REJECTED, order_id, _rejected(order, reason))
            if connection.execute(TAKE, wanted).rowcount != 1:
                connection.rollback()
                have = connection.execute(STOCK, wanted).scalar()
                reason = f"out of stock: {item['sku']} (wanted {wanted['quantity']}, have {have})"
                return _reply(event, REJECTED, order_id, _rejected(order, reason))
            lines.append(
                {"sku": item["sku"], "quantity": wanted["quantity"], "unit_price_cents": price}
            )
        amount = sum(line["quantity"] * line["unit_price_cents"] for line in lines)
        reservation = {"items": lines, "amount_cents": amount, "status": "reserved"}
        if existing is None:
            connection.execute(
                ADD_RESERVATION, {"order_id": order_id, **reservation, "updated_at": utcnow()}
            )
        else:  # released before, reserved again
            connection.execute(
                CHANGE_RESERVATION, {"order": order_id, **reservation, "updated_at": utcnow()}
            )
        return _reply(event, RESERVED, order_id, _reserved_data(order, order_id, reservation))

    def _release(self, connection: Connection, event: Any, payment: dict[str, Any]) -> Reply | None:
        order_id = str(payment.get("order_id") or event.get_subject() or "")
        found = connection.execute(RESERVATION, {"order": order_id}).first()
        if found is None:
            log.warning("payment declined for %s, which has no reservation", order_id)
            return None
        reservation = found._mapping
        if reservation["status"] == "reserved":
            for line in reservation["items"]:
                wanted = {"wanted_sku": line["sku"], "quantity": int(line["quantity"])}
                connection.execute(PUT_BACK, wanted)
            connection.execute(
                CHANGE_RESERVATION,
                {"order": order_id, "status": "released", "updated_at": utcnow()},
            )
        data = {
            "order_id": order_id,
            "items": [{"sku": i["sku"], "quantity": i["quantity"]} for i in reservation["items"]],
            "reason": payment.get("reason") or "payment declined",
        }
        return _reply(event, RELEASED, order_id, data)


def _invalid_items(items: Any) -> str | None:
    if not isinstance(items, list) or not items:
        return "no items"
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str):
            return f"items[{index}].sku is missing"
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            return f"items[{index}].quantity must be a positive integer"
    return None


def _reserved_data(
    order: dict[str, Any], order_id: str, reservation: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "customer": order.get("customer"),
        "items": reservation["items"],
        "amount_cents": reservation["amount_cents"],
        "currency": CURRENCY,
        "card_token": order.get("card_token"),
    }


def _rejected(order: dict[str, Any], reason: str) -> dict[str, Any]:
    return {"order_id": order.get("id"), "customer": order.get("customer"), "reason": reason}


def _reply(event: Any, type: str, order_id: str, data: dict[str, Any]) -> Reply:
    """A reply whose id is derived from the incoming event, so it is stable across retries."""
    name = f"{event.get_source()}#{event.get_id()}#{type}"
    return {
        "type": type,
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
        "subject": order_id or None,
        "data": data,
    }
