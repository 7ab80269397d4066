"""Inventory function (kn func cloudevents template).

Reserves stock on com.example.order.created and replies com.example.inventory.reserved or
com.example.inventory.rejected; on com.example.payment.declined releases the reservation
(compensation) and replies com.example.inventory.released. Idempotent by event (source, id).

Configuration (``start(cfg)``): DATABASE_URL, default sqlite:///inventory.db in the working
directory.
"""

import logging
import os

from cloudevents.core.v1.event import CloudEvent

from .inventory import SOURCE, Inventory
from .store import connect

DEFAULT_DATABASE_URL = "sqlite:///inventory.db"


def new():
    """New is the only method that must be implemented by a Function."""
    return Function()


class Function:
    def __init__(self):
        self.inventory = None

    def start(self, cfg):
        url = cfg.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        self.inventory = Inventory(connect(url))
        logging.info("inventory started")

    def stop(self):
        if self.inventory is not None:
            self.inventory.engine.dispose()

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
