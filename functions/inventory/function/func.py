"""Inventory function (kn func cloudevents template).

Reserves stock on com.example.order.created and replies com.example.inventory.reserved or
com.example.inventory.rejected; on com.example.payment.declined releases the reservation
(compensation) and replies com.example.inventory.released. Idempotent by event (source, id).

Configuration (``start(cfg)``): DATABASE_URL, default sqlite:///inventory.db in the working
directory.

``prime()`` is Bulut's hook (its zygote calls it once, before any instance exists): it runs
a reservation, a release and an order out of stock on a private in-memory database, so an
instance's first event finds the imports done and the statements compiled. It keeps no
connection: ``start(cfg)`` still connects each instance to its own database.
"""

import logging
import os

from cloudevents.core.v1.event import CloudEvent

from . import database
from .database import WarmEngine
from .inventory import ORDER_CREATED, PAYMENT_DECLINED, SOURCE, Inventory
from .store import SEED, connect, prepare

DEFAULT_DATABASE_URL = "sqlite:///inventory.db"


def new():
    """New is the only method that must be implemented by a Function."""
    return Function()


class Function:
    def __init__(self):
        self.inventory = None
        self.warm = None

    def prime(self):
        """Warm an engine on a scratch database: a reservation, its release, and an order
        for more than the stock (the rejection reads the stock again)."""
        self.warm = WarmEngine()
        rehearsal = Inventory(prepare(self.warm.engine))
        sku, (_, _, stock) = next(iter(SEED.items()))
        events = (
            (ORDER_CREATED, {"id": "prime", "items": [{"sku": sku, "quantity": 1}]}),
            (PAYMENT_DECLINED, {"order_id": "prime"}),
            (ORDER_CREATED, {"id": "prime-2", "items": [{"sku": sku, "quantity": stock + 1}]}),
        )
        for number, (type, data) in enumerate(events):
            attributes = {"type": type, "source": "/prime", "id": f"prime-{number}"}
            rehearsal.process(CloudEvent(attributes=attributes, data=data))
        rehearsal.engine.dispose()

    def start(self, cfg):
        url = cfg.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        self.inventory = Inventory(connect(url, self.warm))
        logging.info("inventory started")

    def stop(self):
        if self.inventory is not None:
            database.release(self.inventory.engine)

    async def handle(self, scope, receive, send):
        """Reply with the outcome event, or 204 with no body when there is none."""
        if self.inventory is None:
            self.start(dict(os.environ))
        reply = self.inventory.process(scope["event"])
        if reply is None:
            await send.http({"type": "http.response.start", "status": 204, "headers": []})
            await send.http({"type": "http.response.body", "body": b""})
            return
        attributes = {
            "type": reply["type"],
            "source": SOURCE,
            "id": reply["id"],
            "datacontenttype": "application/json",
        }
        if reply["subject"]:
            attributes["subject"] = reply["subject"]
        await send(CloudEvent(attributes=attributes, data=reply["data"]))

    def alive(self):
        return True, "Alive"

    def ready(self):
        if self.inventory is None:
            return False, "not started"
        return True, "Ready"
