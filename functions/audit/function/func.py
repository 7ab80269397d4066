"""Audit function (kn func cloudevents template): an append-only log of every event.

It subscribes to the broker without a filter, appends each event once per (source, id), and
answers 204 with an empty body: no reply event, so it never feeds the broker (no loops).

Configuration (``start(cfg)``): DATABASE_URL, default sqlite:///audit.db in the working directory.
"""

import logging
import os

from .log import AuditLog, connect

DEFAULT_DATABASE_URL = "sqlite:///audit.db"


def new():
    """New is the only method that must be implemented by a Function."""
    return Function()


class Function:
    def __init__(self):
        self.log = None

    def start(self, cfg):
        self.log = AuditLog(connect(cfg.get("DATABASE_URL") or DEFAULT_DATABASE_URL))
        logging.info("audit started")

    def stop(self):
        if self.log is not None:
            self.log.engine.dispose()

    async def handle(self, scope, receive, send):
        if self.log is None:
            self.start(dict(os.environ))
        event = scope["event"]
        if not self.log.append(event):
            logging.info("audit: %s from %s already logged", event.get_id(), event.get_source())
        await send.http({"type": "http.response.start", "status": 204, "headers": []})
        await send.http({"type": "http.response.body", "body": b""})

    def alive(self):
        return True, "Alive"

    def ready(self):
        return (True, "Ready") if self.log is not None else (False, "not started")
