"""Payments function (kn func cloudevents template).

On com.example.inventory.reserved it charges the order through the local provider and replies
com.example.payment.authorized or com.example.payment.declined. Idempotent by event
(source, id), and one charge per order.

Configuration (``start(cfg)``):

    PAYMENTS_PROVIDER_KEY        the provider API key, or
    PAYMENTS_PROVIDER_KEY_FILE   a file holding it (Vault Agent renders /vault/secrets/...);
                                 re-read until it appears, so readiness follows the file
    PAYMENTS_LIMIT_CENTS         largest amount the provider authorizes (default 100000)
    DATABASE_URL                 default sqlite:///payments.db in the working directory
    VAULT_ADDR, VAULT_TOKEN_FILE, CARD_TRANSIT_KEY
                                 Transit decryption of card tokens (see cards.py)

Without a key (or, with Vault configured, without its Vault token) the function is not ready
(``ready()`` is False with the reason) and an event gets a 503, so Knative retries it; so does
an event whose card token Vault cannot decrypt right now.

``prime()`` is Bulut's hook (its zygote calls it once, before any instance exists): it charges
one order with a stand-in key on a private in-memory database, so an instance's first event
finds the imports done and the statements compiled. It reads no key and keeps no connection:
``start(cfg)`` still does both for each instance.
"""

import logging
import os

from cloudevents.core.v1.event import CloudEvent

from . import cards, database
from .database import WarmEngine
from .payments import INVENTORY_RESERVED, SOURCE, Payments
from .provider import DEFAULT_LIMIT_CENTS, Provider, ProviderKeyMissing, load_key
from .store import connect, prepare

DEFAULT_DATABASE_URL = "sqlite:///payments.db"


def new():
    """New is the only method that must be implemented by a Function."""
    return Function()


class Function:
    def __init__(self):
        self.cfg = None
        self.payments = None
        self.provider = None
        self.problem = "not started"
        self.warm = None
        self.cards = None

    def prime(self):
        """Warm an engine on a scratch database with one charge (a stand-in key)."""
        self.warm = WarmEngine()
        rehearsal = Payments(prepare(self.warm.engine))
        data = {"order_id": "prime", "amount_cents": 1, "currency": "EUR", "card_token": "tok"}
        attributes = {"type": INVENTORY_RESERVED, "source": "/prime", "id": "prime"}
        rehearsal.process(CloudEvent(attributes=attributes, data=data), Provider("prime"))
        rehearsal.engine.dispose()

    def start(self, cfg):
        self.cfg = dict(cfg)
        url = cfg.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        self.payments = Payments(connect(url, self.warm))
        self.cards = cards.from_config(cfg)
        self._load_provider()
        logging.info("payments started (ready: %s)", self.provider is not None)

    def stop(self):
        if self.payments is not None:
            database.release(self.payments.engine)
        if self.cards is not None:
            self.cards.close()

    def _load_provider(self):
        if self.provider is not None or self.cfg is None:
            return self.provider
        try:
            limit = int(self.cfg.get("PAYMENTS_LIMIT_CENTS") or DEFAULT_LIMIT_CENTS)
            self.provider = Provider(load_key(self.cfg), limit_cents=limit)
            self.problem = None
        except ProviderKeyMissing as error:
            self.problem = str(error)
        return self.provider

    async def handle(self, scope, receive, send):
        if self.payments is None:
            self.start(dict(os.environ))
        provider = self._load_provider()
        if provider is None:
            await unavailable(send, f"payments not ready: {self.problem}")
            return
        try:
            reply = self.payments.process(scope["event"], provider, self.cards)
        except cards.CardsUnavailable as error:
            logging.warning("retry later: %s", error)
            await unavailable(send, f"payments not ready: {error}")
            return
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
        if self.payments is None:
            return False, "not started"
        if self._load_provider() is None:
            return False, self.problem
        cards_ready, reason = self.cards.ready()
        return (True, "Ready") if cards_ready else (False, reason)


async def unavailable(send, message):
    """503 with ``message``: Knative retries the event."""
    await send.http(
        {"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"text/plain")]}
    )
    await send.http({"type": "http.response.body", "body": message.encode()})
