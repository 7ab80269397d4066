"""Card tokens arrive as Vault Transit ciphertext; payments decrypts one only to charge it.

orders encrypts the card token with the Transit key ``CARD_TRANSIT_KEY`` before it stores it
or puts it in an event, so the broker's log, every function's database and every backup hold
``vault:vN:...`` only. payments' Vault policy grants ``transit/decrypt/<key>`` and nothing
else on it: the clear token exists only in this process, for the one charge, and is never
stored (the payments table keeps the outcome, not the card).

On a cluster, Vault Agent writes a token to ``/vault/secrets/token`` (annotation
``vault.hashicorp.com/agent-inject-token: "true"``) and ``VAULT_ADDR`` names the server;
Bulut's local runtime does the same.

    VAULT_ADDR         Vault/OpenBao address; unset → card tokens are taken as they come
    VAULT_TOKEN_FILE   token file (default /vault/secrets/token), re-read on every call
    CARD_TRANSIT_KEY   Transit key of card tokens (default card-tokens)
"""

import base64
import logging
import os

import httpx

log = logging.getLogger(__name__)

DEFAULT_TOKEN_FILE = "/vault/secrets/token"
DEFAULT_KEY = "card-tokens"
CIPHERTEXT_PREFIX = "vault:"


class CardsUnavailable(Exception):
    """Vault could not decrypt now (down, token missing or refused): try the event again."""


class NotEncrypted(ValueError):
    """A card token that is not Transit ciphertext while Transit is configured."""


class ClearCards:
    """No Vault configured: card tokens are used as they arrive (development only)."""

    def reveal(self, token):
        return token

    def ready(self):
        return True, "card tokens arrive in clear: VAULT_ADDR is not set"

    def close(self):
        pass


class TransitCards:
    """Decrypts card tokens through Vault's Transit engine."""

    def __init__(self, addr, token_file, key, timeout=5.0):
        self.addr = addr.rstrip("/")
        self.token_file = token_file
        self.key = key
        # TLS only for an https Vault: loading the CA bundle is most of a new client's cost.
        self.client = httpx.Client(timeout=timeout, verify=self.addr.startswith("https:"))

    def reveal(self, token):
        """The clear card token of ``token`` (Transit ciphertext)."""
        if not isinstance(token, str) or not token.startswith(CIPHERTEXT_PREFIX):
            raise NotEncrypted("the card token is not Transit ciphertext")
        try:
            with open(self.token_file, encoding="utf-8") as handle:
                vault_token = handle.read().strip()
            response = self.client.post(
                f"{self.addr}/v1/transit/decrypt/{self.key}",
                json={"ciphertext": token},
                headers={"X-Vault-Token": vault_token},
            )
        except (OSError, httpx.HTTPError) as error:
            raise CardsUnavailable(f"Vault transit decrypt failed: {type(error).__name__}") from None
        if response.status_code == 400:
            raise NotEncrypted(f"Vault could not decrypt the card token with {self.key}")
        if response.status_code != 200:
            raise CardsUnavailable(f"Vault transit decrypt failed with {response.status_code}")
        return base64.b64decode(response.json()["data"]["plaintext"]).decode()

    def ready(self):
        if not os.path.exists(self.token_file):
            return False, f"waiting for the Vault token at {self.token_file}"
        return True, "Ready"

    def close(self):
        self.client.close()


def from_config(cfg):
    """Transit when VAULT_ADDR is set, else clear card tokens (with a warning)."""
    addr = cfg.get("VAULT_ADDR")
    if not addr:
        log.warning("VAULT_ADDR is not set: card tokens are expected in clear")
        return ClearCards()
    return TransitCards(
        addr,
        cfg.get("VAULT_TOKEN_FILE") or DEFAULT_TOKEN_FILE,
        cfg.get("CARD_TRANSIT_KEY") or DEFAULT_KEY,
    )
