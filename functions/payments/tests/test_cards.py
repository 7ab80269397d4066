"""Card tokens arrive as Transit ciphertext: decrypted only to charge, never stored."""

import base64
import http.server
import json
import threading

import pytest
from conftest import Sender
from function import new
from test_func import payments_rows, reserved


class TransitStandIn(http.server.ThreadingHTTPServer):
    """A loopback server speaking Vault's transit decrypt API for one token and one key.

    The platform's integration tests run the same function against a real OpenBao with the
    real policies (tests/integration/test_secrets_transit_orders.py).
    """

    def __init__(self, token, key):
        super().__init__(("127.0.0.1", 0), _TransitHandler)
        self.token = token
        self.key = key
        self.calls = []

    @property
    def addr(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def encrypt(self, plaintext):
        """What orders stores and sends: ciphertext only this stand-in can decrypt."""
        return "vault:v1:" + base64.b64encode(plaintext.encode()).decode()[::-1]


class _TransitHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.server.calls.append(self.path)
        if self.headers.get("x-vault-token") != self.server.token:
            return self._answer(403, {"errors": ["permission denied"]})
        if self.path != f"/v1/transit/decrypt/{self.server.key}":
            return self._answer(403, {"errors": ["permission denied"]})
        ciphertext = body["ciphertext"]
        if not ciphertext.startswith("vault:v1:"):
            return self._answer(400, {"errors": ["invalid ciphertext"]})
        plaintext = ciphertext.removeprefix("vault:v1:")[::-1]
        self._answer(200, {"data": {"plaintext": plaintext}})

    def _answer(self, status, document):
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def transit(tmp_path):
    server = TransitStandIn("t0ken", "card-tokens")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    token_file = tmp_path / "token"
    token_file.write_text("t0ken\n")
    yield server, token_file
    server.shutdown()
    server.server_close()


def with_transit(database_url, server, token_file, **cfg):
    f = new()
    f.start(
        {
            "DATABASE_URL": database_url,
            "PAYMENTS_PROVIDER_KEY": "sk_test",
            "VAULT_ADDR": server.addr,
            "VAULT_TOKEN_FILE": str(token_file),
            **cfg,
        }
    )
    return f


async def call(function, event):
    send = Sender()
    await function.handle({"event": event}, None, send)
    return send


async def test_an_encrypted_card_is_decrypted_to_charge_it(transit, database_url):
    server, token_file = transit
    f = with_transit(database_url, server, token_file)
    paid = (await call(f, reserved("o-1", token=server.encrypt("tok_visa")))).events[0][0]
    # only the clear token tok_decline declines: this one was decrypted before the charge
    declined = (await call(f, reserved("o-2", token=server.encrypt("tok_decline")))).events[0][0]
    assert paid.get_type() == "com.example.payment.authorized"
    assert declined.get_data()["reason"] == "card_declined"
    assert server.calls == ["/v1/transit/decrypt/card-tokens"] * 2
    stored = b"".join(path.read_bytes() for path in token_file.parent.glob("payments.db*"))
    assert stored and b"tok_visa" not in stored and b"tok_decline" not in stored
    f.stop()


async def test_a_redelivery_does_not_decrypt_again(transit, database_url):
    server, token_file = transit
    f = with_transit(database_url, server, token_file)
    event = reserved("o-1", token=server.encrypt("tok_visa"))
    first = (await call(f, event)).events[0][0]
    second = (await call(f, event)).events[0][0]
    assert first.get_data() == second.get_data()
    assert len(server.calls) == 1
    f.stop()


async def test_a_clear_card_token_is_declined_without_asking_vault(transit, database_url):
    server, token_file = transit
    f = with_transit(database_url, server, token_file)
    reply = (await call(f, reserved(token="tok_visa"))).events[0][0]
    assert reply.get_type() == "com.example.payment.declined"
    assert reply.get_data()["reason"] == "card_token_not_encrypted"
    assert server.calls == []
    f.stop()


async def test_the_card_transit_key_comes_from_the_environment(transit, database_url):
    server, token_file = transit
    f = with_transit(database_url, server, token_file, CARD_TRANSIT_KEY="shop-prod-cards")
    send = await call(f, reserved(token=server.encrypt("tok_visa")))
    assert server.calls == ["/v1/transit/decrypt/shop-prod-cards"]
    assert send.status == 503, "the stand-in refuses another key, as a policy would"
    f.stop()


async def test_when_vault_cannot_decrypt_the_event_is_retried_and_nothing_is_recorded(
    transit, database_url
):
    server, token_file = transit
    f = with_transit(database_url, server, token_file)
    token_file.write_text("revoked\n")
    send = await call(f, reserved(token=server.encrypt("tok_visa")))
    assert send.status == 503 and send.events == []
    assert b"403" in send.body and b"tok_visa" not in send.body
    assert payments_rows(database_url) == []
    token_file.write_text("t0ken\n")
    retried = (await call(f, reserved(token=server.encrypt("tok_visa")))).events[0][0]
    assert retried.get_type() == "com.example.payment.authorized"
    f.stop()


def test_without_the_vault_token_it_is_not_ready(transit, database_url, tmp_path):
    server, _ = transit
    f = with_transit(database_url, server, tmp_path / "missing")
    ready, reason = f.ready()
    assert not ready and "waiting for the Vault token" in reason
    f.stop()
