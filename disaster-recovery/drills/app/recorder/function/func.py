"""Recorder: stores each CloudEvent id once in ``recorder.db`` and answers 204.

The database lives in the working directory (the platform gives each service its own,
``<state>/volumes/<namespace>/<service>/``), which is what a backup must carry.
Configuration (``start(cfg)``): RECORDER_DB, default ``recorder.db``.
"""

import os
import sqlite3
import time

SCHEMA = "create table if not exists seen(id text primary key, source text, type text, at real)"


def new():
    """New is the only method that must be implemented by a Function."""
    return Function()


class Function:
    def __init__(self):
        self.db = None

    def start(self, cfg):
        path = cfg.get("RECORDER_DB") or "recorder.db"
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.db.execute("pragma journal_mode=wal")
        self.db.execute(SCHEMA)

    def stop(self):
        if self.db is not None:
            self.db.close()
            self.db = None

    async def handle(self, scope, receive, send):
        if self.db is None:
            self.start(dict(os.environ))
        event = scope.get("event")
        if event is not None:
            self.db.execute(
                "insert or ignore into seen values (?, ?, ?, ?)",
                (event.get_id(), event.get_source(), event.get_type(), time.time()),
            )
        await send.http({"type": "http.response.start", "status": 204, "headers": []})
        await send.http({"type": "http.response.body", "body": b""})

    def alive(self):
        return True, "Alive"

    def ready(self):
        return (True, "Ready") if self.db is not None else (False, "not started")
