"""Orders function (kn func http template): a FastAPI app served as raw ASGI.

Configuration (read in ``start(cfg)``, which func-python calls with a copy of the environment):

    DATABASE_URL     SQLAlchemy URL of the orders database (default sqlite:///orders.db,
                     a file in the working directory)
    K_SINK           where order.created events go (the broker); unset → not emitted, warned
    K_CE_OVERRIDES   {"extensions": {...}} set on every emitted event
    K_SINK_TIMEOUT   seconds to wait for the sink (default 10)
    VAULT_ADDR, VAULT_TOKEN_FILE, PII_TRANSIT_KEY   Transit encryption of e-mail (see pii.py)
"""

import logging
import os

from . import pii
from .app import create_app
from .sink import Sink
from .store import OrderStore, connect

DEFAULT_DATABASE_URL = "sqlite:///orders.db"


def new():
    """New is the only method that must be implemented by a Function."""
    return Function()


class Function:
    def __init__(self):
        self.store = None
        self.app = None
        self.cipher = None

    def start(self, cfg):
        """Connect the database and build the app from ``cfg`` (a copy of the environment)."""
        url = cfg.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        self.store = OrderStore(connect(url))
        self.cipher = pii.from_config(cfg)
        self.app = create_app(self.store, Sink.from_config(cfg), self.cipher)
        logging.info("orders started")

    def stop(self):
        if self.store is not None:
            self.store.engine.dispose()
        if isinstance(self.cipher, pii.Transit):
            self.cipher.close()
        logging.info("orders stopped")

    async def handle(self, scope, receive, send):
        """Every request other than the health probes goes to the FastAPI app."""
        if self.app is None:  # served without a lifespan start (e.g. by a bare ASGI server)
            self.start(dict(os.environ))
        await self.app(scope, receive, send)

    def alive(self):
        return True, "Alive"

    def ready(self):
        if self.store is None:
            return False, "not started"
        cipher_ready, reason = self.cipher.ready()
        if not cipher_ready:
            return False, reason
        try:
            self.store.ping()
        except Exception as error:
            return False, f"database unavailable: {error}"
        return True, "Ready"
