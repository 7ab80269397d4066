"""Customer PII and card tokens encrypted with Vault Transit before they are stored or sent.

On a cluster, Vault Agent (annotation ``vault.hashicorp.com/agent-inject-token: "true"``)
writes a token to ``/vault/secrets/token`` and ``VAULT_ADDR`` names the server; Bulut's
local runtime does the same. The keys never leave Vault: the function only ever holds
``vault:vN:...`` ciphertext, and rotation + rewrap need no code change here.

Two keys, two grants: the e-mail address under ``PII_TRANSIT_KEY`` (orders encrypts and
decrypts it: the API shows it masked), the card token under ``CARD_TRANSIT_KEY`` (orders may
only encrypt; payments alone may decrypt, when it charges). The card token therefore reaches
the orders database, the events, the broker's log and every backup as ciphertext only.

    VAULT_ADDR         Vault/OpenBao address; unset → both stored in clear (warned once)
    VAULT_TOKEN_FILE   token file (default /vault/secrets/token), re-read on every call
    PII_TRANSIT_KEY    Transit key of the e-mail address (default orders-pii)
    CARD_TRANSIT_KEY   Transit key of card tokens (default card-tokens)
"""

import base64
import logging
import os

import httpx

log = logging.getLogger(__name__)

DEFAULT_TOKEN_FILE = "/vault/secrets/token"
DEFAULT_KEY = "orders-pii"
DEFAULT_CARD_KEY = "card-tokens"


class PlainText:
    """No Vault configured: values pass through (development without Vault only)."""

    encrypted = False

    def encrypt(self, value):
        return value

    def decrypt(self, value):
        return value

    def ready(self):
        return True, "PII and card tokens stored in clear: VAULT_ADDR is not set"


class Transit:
    """Encrypt and decrypt through Vault's Transit engine."""

    encrypted = True

    def __init__(self, addr, token_file, key, timeout=5.0):
        self.addr = addr.rstrip("/")
        self.token_file = token_file
        self.key = key
        # TLS only for an https Vault: loading the CA bundle is most of a new client's cost.
        self.client = httpx.Client(timeout=timeout, verify=self.addr.startswith("https:"))

    def _token(self):
        with open(self.token_file, encoding="utf-8") as handle:
            return handle.read().strip()

    def _call(self, operation, payload):
        response = self.client.post(
            f"{self.addr}/v1/transit/{operation}/{self.key}",
            json=payload,
            headers={"X-Vault-Token": self._token()},
        )
        if response.status_code != 200:
            raise RuntimeError(f"Vault transit {operation} failed with {response.status_code}")
        return response.json()["data"]

    def encrypt(self, value):
        if value is None:
            return None
        plaintext = base64.b64encode(value.encode()).decode()
        return self._call("encrypt", {"plaintext": plaintext})["ciphertext"]

    def decrypt(self, value):
        if value is None:
            return None
        data = self._call("decrypt", {"ciphertext": value})
        return base64.b64decode(data["plaintext"]).decode()

    def ready(self):
        if not os.path.exists(self.token_file):
            return False, f"waiting for the Vault token at {self.token_file}"
        return True, "Ready"

    def close(self):
        self.client.close()


def from_config(cfg):
    """The e-mail cipher: Transit when VAULT_ADDR is set, else clear text (with a warning)."""
    return _cipher(cfg, cfg.get("PII_TRANSIT_KEY") or DEFAULT_KEY, "customer e-mail addresses")


def cards_from_config(cfg):
    """The card-token cipher (orders only encrypts with it)."""
    return _cipher(cfg, cfg.get("CARD_TRANSIT_KEY") or DEFAULT_CARD_KEY, "card tokens")


def _cipher(cfg, key, what):
    addr = cfg.get("VAULT_ADDR")
    if not addr:
        log.warning("VAULT_ADDR is not set: %s are stored and sent in clear", what)
        return PlainText()
    return Transit(addr, cfg.get("VAULT_TOKEN_FILE") or DEFAULT_TOKEN_FILE, key)


def mask(email):
    """``a***@example.com`` — what the API shows instead of the address."""
    if not email or "@" not in email:
        return email
    name, domain = email.split("@", 1)
    return f"{name[:1]}***@{domain}"
