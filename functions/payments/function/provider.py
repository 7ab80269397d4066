"""A local, deterministic stand-in for a card payment provider.

It needs an API key like a real one (PAYMENTS_PROVIDER_KEY, or a file rendered by Vault
Agent named by PAYMENTS_PROVIDER_KEY_FILE). Outcomes depend only on the inputs:

- card token ``tok_decline`` → declined, reason ``card_declined``;
- amount above the limit → declined, reason ``amount_over_limit``;
- amount not positive → declined, reason ``invalid_amount``;
- otherwise authorized, with a payment id derived from the key and the idempotency key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DECLINED_TOKEN = "tok_decline"
DEFAULT_LIMIT_CENTS = 100_000


class ProviderKeyMissing(Exception):
    """No API key is configured (or its file is not there yet)."""


@dataclass(frozen=True)
class Charge:
    authorized: bool
    payment_id: str | None = None
    reason: str | None = None


def load_key(cfg: Mapping[str, str]) -> str:
    """The API key from PAYMENTS_PROVIDER_KEY, else from the file PAYMENTS_PROVIDER_KEY_FILE."""
    key = (cfg.get("PAYMENTS_PROVIDER_KEY") or "").strip()
    if key:
        return key
    file = cfg.get("PAYMENTS_PROVIDER_KEY_FILE")
    if file:
        path = Path(file)
        if path.is_file():
            key = path.read_text(encoding="utf-8").strip()
            if key:
                return key
            raise ProviderKeyMissing(f"provider key file {path} is empty")
        raise ProviderKeyMissing(f"provider key file {path} does not exist (yet)")
    raise ProviderKeyMissing(
        "no provider key: set PAYMENTS_PROVIDER_KEY or PAYMENTS_PROVIDER_KEY_FILE"
    )


class Provider:
    def __init__(self, api_key: str, limit_cents: int = DEFAULT_LIMIT_CENTS) -> None:
        if not api_key:
            raise ProviderKeyMissing("no provider key")
        self._key = api_key.encode()
        self.limit_cents = limit_cents

    def charge(
        self, *, card_token: str, amount_cents: int, currency: str, idempotency_key: str
    ) -> Charge:
        if card_token == DECLINED_TOKEN:
            return Charge(authorized=False, reason="card_declined")
        if amount_cents <= 0:
            return Charge(authorized=False, reason="invalid_amount")
        if amount_cents > self.limit_cents:
            return Charge(authorized=False, reason="amount_over_limit")
        message = f"{idempotency_key}:{amount_cents}:{currency}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).hexdigest()
        return Charge(authorized=True, payment_id=f"pay_{digest[:20]}")
