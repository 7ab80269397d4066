"""PII and card tokens: stored and sent only as Vault Transit ciphertext."""

import base64
import http.server
import json
import threading

import httpx
import pytest
from function import new
from function.pii import mask
from function.store import Order
from sqlmodel import Session, create_engine


class TransitStandIn(http.server.ThreadingHTTPServer):
    """A loopback server speaking Vault's transit encrypt/decrypt API for one token.

    The platform's integration tests run the same function against a real OpenBao.
    """

    def __init__(self, token):
        super().__init__(("127.0.0.1", 0), _TransitHandler)
        self.token = token
        self.calls = []


class _TransitHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.server.calls.append(self.path)
        key = self.path.rsplit("/", 1)[-1]
        if self.headers.get("x-vault-token") != self.server.token:
            self.send_response(403)
            self.end_headers()
            return
        if "/encrypt/" in self.path:
            data = {"ciphertext": f"vault:v1:{key}:" + body["plaintext"][::-1]}
        else:
            data = {"plaintext": body["ciphertext"].removeprefix(f"vault:v1:{key}:")[::-1]}
        payload = json.dumps({"data": data}).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def transit(tmp_path):
    server = TransitStandIn("t0ken")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    token_file = tmp_path / "token"
    token_file.write_text("t0ken\n")
    yield server, str(token_file)
    server.shutdown()
    server.server_close()


def with_transit(transit, database_url, sink, **cfg):
    """A started orders function whose Vault is the stand-in."""
    server, token_file = transit
    f = new()
    f.start(
        {
            "DATABASE_URL": database_url,
            "K_SINK": sink.url,
            "VAULT_ADDR": f"http://127.0.0.1:{server.server_address[1]}",
            "VAULT_TOKEN_FILE": token_file,
            **cfg,
        }
    )
    return f


async def test_the_email_and_card_token_are_stored_and_sent_only_as_ciphertext(
    transit, database_url, sink
):
    server, _ = transit
    f = with_transit(transit, database_url, sink)
    transport = httpx.ASGITransport(app=f.handle)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
        created = await client.post(
            "/orders",
            json={
                "customer": "ada",
                "email": "ada@example.com",
                "card_token": "tok_secret_card",
                "items": [{"sku": "WIDGET-1", "quantity": 1}],
            },
        )
        order_id = created.json()["id"]
        shown = await client.get(f"/orders/{order_id}")
    with Session(create_engine(database_url)) as session:
        stored = session.get(Order, order_id)
    assert stored.email.startswith("vault:v1:orders-pii:")
    assert "ada@example.com" not in stored.email
    plain = base64.b64decode(stored.email.removeprefix("vault:v1:orders-pii:")[::-1])
    assert plain == b"ada@example.com"
    assert stored.card_token.startswith("vault:v1:card-tokens:")
    assert shown.json()["email"] == "a***@example.com"
    assert "card_token" not in shown.json()
    [(_, event_body)] = sink.requests
    assert json.loads(event_body)["card_token"] == stored.card_token
    sent = b"".join(body for _, body in sink.requests)
    assert b"ada@example.com" not in sent and b"tok_secret_card" not in sent
    # orders encrypts card tokens and never decrypts one: only payments may
    assert "/v1/transit/encrypt/card-tokens" in server.calls
    assert "/v1/transit/decrypt/card-tokens" not in server.calls
    f.stop()


async def test_the_card_transit_key_comes_from_the_environment(transit, database_url, sink):
    server, _ = transit
    f = with_transit(transit, database_url, sink, CARD_TRANSIT_KEY="shop-prod-card-tokens")
    transport = httpx.ASGITransport(app=f.handle)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
        order = {"customer": "ada", "card_token": "tok_ok", "items": [{"sku": "W", "quantity": 1}]}
        assert (await client.post("/orders", json=order)).status_code == 201
    assert "/v1/transit/encrypt/shop-prod-card-tokens" in server.calls
    f.stop()


def test_without_the_vault_token_the_function_is_not_ready(tmp_path, database_url):
    f = new()
    f.start(
        {
            "DATABASE_URL": database_url,
            "VAULT_ADDR": "http://127.0.0.1:9",
            "VAULT_TOKEN_FILE": str(tmp_path / "missing"),
        }
    )
    ready, reason = f.ready()
    assert not ready and "waiting for the Vault token" in reason
    f.stop()


def test_masking_keeps_only_the_first_letter_and_the_domain():
    assert mask("ada@example.com") == "a***@example.com"
    assert mask(None) is None
