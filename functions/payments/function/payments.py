"""Charging reserved orders, once per event (source, id) and once per order.

The card token in the event is Transit ciphertext (see cards.py): it is decrypted only for a
new charge, handed to the provider and never stored.

The transaction is a few SQLAlchemy Core statements, each built once (below) and compiled
once per engine, on one connection: the ORM's session and unit of work cost about twice as
much CPU per event, on every instance's first event too.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from .cards import ClearCards, NotEncrypted
from .provider import Charge, Provider
from .store import PAYMENTS, PROCESSED, utcnow

log = logging.getLogger(__name__)

SOURCE = "/payments"
INVENTORY_RESERVED = "com.example.inventory.reserved"
AUTHORIZED = "com.example.payment.authorized"
DECLINED = "com.example.payment.declined"

Reply = dict[str, Any]

SEEN = select(PROCESSED.c.reply).where(
    PROCESSED.c.source == bindparam("seen_source"),
    PROCESSED.c.event_id == bindparam("seen_id"),
)
RECORD = insert(PROCESSED)
PAYMENT = select(
    PAYMENTS.c.payment_id,
    PAYMENTS.c.amount_cents,
    PAYMENTS.c.currency,
    PAYMENTS.c.status,
    PAYMENTS.c.reason,
).where(PAYMENTS.c.order_id == bindparam("order"))
ADD_PAYMENT = insert(PAYMENTS)


class Payments:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def process(self, event: Any, provider: Provider, cards: Any = None) -> Reply | None:
        """The reply to ``event`` (None when there is none); raises cards.CardsUnavailable
        when Vault cannot decrypt the card now (nothing is recorded: a retry charges it)."""
        cards = cards or ClearCards()
        key = {"seen_source": event.get_source(), "seen_id": event.get_id()}
        with self.engine.connect() as connection:
            seen = connection.execute(SEEN, key).first()
            if seen is not None:
                return seen.reply
            reply = None
            if event.get_type() == INVENTORY_RESERVED:
                reply = self._charge(connection, event, provider, cards)
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
            except IntegrityError:
                connection.rollback()
                seen = connection.execute(SEEN, key).first()
                return seen.reply if seen else None
            return reply

    def _charge(self, connection: Connection, event: Any, provider: Provider, cards: Any) -> Reply:
        data = event.get_data() if isinstance(event.get_data(), dict) else {}
        order_id = str(data.get("order_id") or event.get_subject() or "")
        found = connection.execute(PAYMENT, {"order": order_id}).first()
        if found is not None:
            payment = dict(found._mapping)
        else:  # a new order: one charge per order, whatever the event id
            amount = data.get("amount_cents")
            amount = amount if isinstance(amount, int) and not isinstance(amount, bool) else 0
            currency = str(data.get("currency") or "EUR")
            try:
                card = cards.reveal(data.get("card_token") or "")
            except NotEncrypted as error:
                log.warning("order %s declined: %s", order_id, error)
                charge = Charge(authorized=False, reason="card_token_not_encrypted")
            else:
                charge = provider.charge(
                    card_token=str(card),
                    amount_cents=amount,
                    currency=currency,
                    idempotency_key=order_id,
                )
            payment = {
                "payment_id": charge.payment_id,
                "amount_cents": amount,
                "currency": currency,
                "status": "authorized" if charge.authorized else "declined",
                "reason": charge.reason,
            }
            connection.execute(
                ADD_PAYMENT, {"order_id": order_id, **payment, "created_at": utcnow()}
            )
        outcome = {
            "order_id": order_id,
            "customer": data.get("customer"),
            "amount_cents": payment["amount_cents"],
            "currency": payment["currency"],
        }
        if payment["status"] == "authorized":
            authorized = {**outcome, "payment_id": payment["payment_id"]}
            return _reply(event, AUTHORIZED, order_id, authorized)
        return _reply(event, DECLINED, order_id, {**outcome, "reason": payment["reason"]})


def _reply(event: Any, type: str, order_id: str, data: dict[str, Any]) -> Reply:
    name = f"{event.get_source()}#{event.get_id()}#{type}"
    return {
        "type": type,
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
        "subject": order_id or None,
        "data": data,
    }
