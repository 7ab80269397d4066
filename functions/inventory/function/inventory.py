"""Inventory decisions: reserve stock for an order, release it on a declined payment.

Each incoming event is handled once per (source, id) in one transaction together with its
effects; the reply is stored with it, so a redelivered event gets the same reply (same id)
and changes nothing.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from .store import ProcessedEvent, Product, Reservation, utcnow

log = logging.getLogger(__name__)

SOURCE = "/inventory"
CURRENCY = "EUR"
ORDER_CREATED = "com.example.order.created"
PAYMENT_DECLINED = "com.example.payment.declined"
RESERVED = "com.example.inventory.reserved"
REJECTED = "com.example.inventory.rejected"
RELEASED = "com.example.inventory.released"

Reply = dict[str, Any]  # {"type", "id", "subject", "data"}


class Inventory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def process(self, event: Any) -> Reply | None:
        """The reply to ``event`` (a CloudEvent), or None when there is nothing to say."""
        source, event_id = event.get_source(), event.get_id()
        with Session(self.engine, expire_on_commit=False) as session:
            seen = session.get(ProcessedEvent, (source, event_id))
            if seen is not None:
                log.info("event %s from %s seen before: same reply", event_id, source)
                return seen.reply
            reply = self._decide(session, event)
            session.add(ProcessedEvent(source=source, event_id=event_id, reply=reply))
            try:
                session.commit()
            except IntegrityError:  # a concurrent redelivery committed first
                session.rollback()
                seen = session.get(ProcessedEvent, (source, event_id))
                return seen.reply if seen else None
            return reply

    def _decide(self, session: Session, event: Any) -> Reply | None:
        data = event.get_data()
        if event.get_type() == ORDER_CREATED:
            return self._reserve(session, event, data if isinstance(data, dict) else {})
        if event.get_type() == PAYMENT_DECLINED:
            return self._release(session, event, data if isinstance(data, dict) else {})
        log.info("ignoring event type %s", event.get_type())
        return None

    def _reserve(self, session: Session, event: Any, order: dict[str, Any]) -> Reply:
        order_id = str(order.get("id") or event.get_subject() or "")
        existing = session.get(Reservation, order_id)
        if existing is not None and existing.status == "reserved":
            return _reply(event, RESERVED, order_id, _reserved_data(order, existing))
        problem = _invalid_items(order.get("items"))
        if problem or not order_id:
            return _reply(event, REJECTED, order_id, _rejected(order, problem or "no order id"))
        lines: list[dict[str, Any]] = []
        for item in order["items"]:
            sku, quantity = item["sku"], int(item["quantity"])
            product = session.get(Product, sku)
            if product is None:
                session.rollback()
                return _reply(event, REJECTED, order_id, _rejected(order, f"unknown sku {sku}"))
            taken = session.execute(
                update(Product)
                .where(col(Product.sku) == sku, col(Product.stock) >= quantity)
                .values(stock=col(Product.stock) - quantity)
                .execution_options(synchronize_session=False)  # `product` is not read again
            )
            if taken.rowcount != 1:
                session.rollback()
                reason = f"out of stock: {sku} (wanted {quantity}, have {product.stock})"
                return _reply(event, REJECTED, order_id, _rejected(order, reason))
            price = product.price_cents
            lines.append({"sku": sku, "quantity": quantity, "unit_price_cents": price})
        amount = sum(line["quantity"] * line["unit_price_cents"] for line in lines)
        if existing is None:
            existing = Reservation(
                order_id=order_id, items=lines, amount_cents=amount, status="reserved"
            )
            session.add(existing)
        else:  # released before, reserved again
            existing.items, existing.amount_cents, existing.status = lines, amount, "reserved"
            existing.updated_at = utcnow()
        return _reply(event, RESERVED, order_id, _reserved_data(order, existing))

    def _release(self, session: Session, event: Any, payment: dict[str, Any]) -> Reply | None:
        order_id = str(payment.get("order_id") or event.get_subject() or "")
        reservation = session.get(Reservation, order_id)
        if reservation is None:
            log.warning("payment declined for %s, which has no reservation", order_id)
            return None
        if reservation.status == "reserved":
            for line in reservation.items:
                session.execute(
                    update(Product)
                    .where(col(Product.sku) == line["sku"])
                    .values(stock=col(Product.stock) + int(line["quantity"]))
                    .execution_options(synchronize_session=False)  # no product is loaded
                )
            reservation.status = "released"
            reservation.updated_at = utcnow()
            session.add(reservation)
        data = {
            "order_id": order_id,
            "items": [{"sku": i["sku"], "quantity": i["quantity"]} for i in reservation.items],
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


def _reserved_data(order: dict[str, Any], reservation: Reservation) -> dict[str, Any]:
    return {
        "order_id": reservation.order_id,
        "customer": order.get("customer"),
        "items": reservation.items,
        "amount_cents": reservation.amount_cents,
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
