"""Orders function (kn func http template): a FastAPI app served as raw ASGI.

Configuration (read in ``start(cfg)``, which func-python calls with a copy of the environment):

    DATABASE_URL     SQLAlchemy URL of the orders database (default sqlite:///orders.db,
                     a file in the working directory)
    K_SINK           where order.created events go (the broker); unset → not emitted, warned
    K_CE_OVERRIDES   {"extensions": {...}} set on every emitted event
    K_SINK_TIMEOUT   seconds to wait for the sink (default 10)
    VAULT_ADDR, VAULT_TOKEN_FILE, PII_TRANSIT_KEY, CARD_TRANSIT_KEY
                     Transit encryption of the e-mail and the card token (see pii.py)

``prime()`` is Bulut's hook (its zygote calls it once, before any instance exists): it builds
the FastAPI app and sends it an order, a lookup and a saga event against a private in-memory
database (and asks it what readiness asks), so an instance's first request finds the routes
built, the imports done and the statements compiled. It keeps no connection and reads no
secret: ``start(cfg)`` still gives each instance its own database, sink and cipher.
"""

import asyncio
import json
import logging
import os

from cloudevents.core.bindings.http import to_binary_event

from . import database, pii, saga
from .app import Services, create_app
from .database import WarmEngine
from .sink import Sink
from .store import OrderStore, connect, prepare

DEFAULT_DATABASE_URL = "sqlite:///orders.db"


def new():
    """New is the only method that must be implemented by a Function."""
    return Function()


class Function:
    def __init__(self):
        self.store = None
        self.app = None
        self.cipher = None
        self.cards = None
        self.services = None
        self.warm = None

    def prime(self):
        """Build the app and rehearse an order's requests on a scratch database."""
        self.warm = WarmEngine()
        self.services = Services(OrderStore(prepare(self.warm.engine)), RehearsalSink(None))
        self.app = create_app(self.services)
        asyncio.run(rehearse(self.app))
        self.services.store.ping()  # what ready() asks the database
        self.services.store.engine.dispose()
        self.services.store = self.services.sink = None

    def start(self, cfg):
        """Connect the database and fill the app's services from ``cfg`` (the environment)."""
        url = cfg.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        self.store = OrderStore(connect(url, self.warm))
        self.cipher = pii.from_config(cfg)
        self.cards = pii.cards_from_config(cfg)
        if self.app is None:
            self.services = Services()
            self.app = create_app(self.services)
        self.services.store, self.services.cipher = self.store, self.cipher
        self.services.cards = self.cards
        self.services.sink = Sink.from_config(cfg)
        logging.info("orders started")

    def stop(self):
        if self.store is not None:
            database.release(self.store.engine)
        if self.services is not None and self.services.sink is not None:
            self.services.sink.close()
        for cipher in (self.cipher, self.cards):
            if isinstance(cipher, pii.Transit):
                cipher.close()
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


class RehearsalSink(Sink):
    """Encodes events as the real sink does, and sends them nowhere."""

    def emit(self, event):
        to_binary_event(event)
        return True


async def rehearse(app):
    """An order, its lookup and one saga event, through the app in-process."""
    order = {"customer": "prime", "card_token": "tok", "items": [{"sku": "PRIME", "quantity": 1}]}
    created = await _request(app, "POST", "/orders", order)
    order_id = json.loads(created)["id"]
    await _request(app, "GET", f"/orders/{order_id}")
    event = [
        (b"ce-specversion", b"1.0"),
        (b"ce-id", b"prime"),
        (b"ce-source", b"/prime"),
        (b"ce-type", saga.INVENTORY_RESERVED.encode()),
    ]
    await _request(app, "POST", "/", {"order_id": order_id}, event)


async def _request(app, method, path, body=None, headers=()):
    """One request through the ASGI app; the response body."""
    content = b"" if body is None else json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8080),
    }
    chunks = []

    async def receive():
        return {"type": "http.request", "body": content, "more_body": False}

    async def send(message):
        chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(chunks)
