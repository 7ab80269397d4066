"""Audit function (kn func cloudevents template): an append-only log of every event.

It subscribes to the broker without a filter, appends each event once per (source, id), and
answers 204 with an empty body: no reply event, so it never feeds the broker (no loops).
Events arriving together share one transaction; each is answered once it is committed.

Configuration (``start(cfg)``): DATABASE_URL, default sqlite:///audit.db in the working directory.

``prime()`` is Bulut's hook (its zygote calls it once, before any instance exists): it appends
one event to a private in-memory log, so an instance's first event finds the imports done and
the statements compiled. It keeps no connection: ``start(cfg)`` connects each instance.
"""

import logging
import os

from cloudevents.core.v1.event import CloudEvent

from . import database
from .database import WarmEngine
from .log import AuditLog, connect, prepare

DEFAULT_DATABASE_URL = "sqlite:///audit.db"


def new():
    """New is the only method that must be implemented by a Function."""
    return Function()


class Function:
    def __init__(self):
        self.log = None
        self.warm = None

    def prime(self):
        """Warm an engine on a scratch database with one appended event."""
        self.warm = WarmEngine()
        rehearsal = AuditLog(prepare(self.warm.engine))
        attributes = {"type": "prime", "source": "/prime", "id": "prime", "subject": "prime"}
        rehearsal.append(CloudEvent(attributes=attributes, data={"prime": True}))
        rehearsal.engine.dispose()

    def start(self, cfg):
        url = cfg.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        self.log = AuditLog(connect(url, self.warm))
        logging.info("audit started")

    def stop(self):
        if self.log is not None:
            database.release(self.log.engine)

    async def handle(self, scope, receive, send):
        if self.log is None:
            self.start(dict(os.environ))
        event = scope["event"]
        if not await self.log.append_soon(event):
            logging.info("audit: %s from %s already logged", event.get_id(), event.get_source())
        await send.http({"type": "http.response.start", "status": 204, "headers": []})
        await send.http({"type": "http.response.body", "body": b""})

    def alive(self):
        return True, "Alive"

    def ready(self):
        return (True, "Ready") if self.log is not None else (False, "not started")
