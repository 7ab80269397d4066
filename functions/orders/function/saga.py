"""The order saga as data: which event moves an order from which status to which.

    pending ──inventory.reserved──► reserved ──payment.authorized──► paid
       │                               └──────payment.declined────► cancelled
       └──inventory.rejected──► rejected

Deliveries can arrive out of order (the broker retries each subscriber on its own), so a
payment outcome is accepted straight from ``pending``, and an event that would move an order
backwards is recorded in its history without changing the status.
"""

from __future__ import annotations

ORDER_CREATED = "com.example.order.created"
INVENTORY_RESERVED = "com.example.inventory.reserved"
INVENTORY_REJECTED = "com.example.inventory.rejected"
PAYMENT_AUTHORIZED = "com.example.payment.authorized"
PAYMENT_DECLINED = "com.example.payment.declined"

PENDING = "pending"
RESERVED = "reserved"
PAID = "paid"
REJECTED = "rejected"
CANCELLED = "cancelled"

# event type -> (status it leads to, statuses it may leave)
TRANSITIONS: dict[str, tuple[str, frozenset[str]]] = {
    INVENTORY_RESERVED: (RESERVED, frozenset({PENDING})),
    INVENTORY_REJECTED: (REJECTED, frozenset({PENDING})),
    PAYMENT_AUTHORIZED: (PAID, frozenset({PENDING, RESERVED})),
    PAYMENT_DECLINED: (CANCELLED, frozenset({PENDING, RESERVED})),
}


def handles(event_type: str) -> bool:
    """True for the event types that advance the saga."""
    return event_type in TRANSITIONS


def advance(status: str, event_type: str) -> str:
    """The status after ``event_type``; unchanged when the event would move it backwards."""
    target, sources = TRANSITIONS[event_type]
    return target if status in sources else status
