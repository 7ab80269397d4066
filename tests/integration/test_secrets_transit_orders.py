"""orders encrypts e-mail and card tokens with a real OpenBao's Transit (rotate + rewrap in
place); payments decrypts the card token orders stored, each with a token of its own policy."""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bulut.functions.environments import ensure_environment
from bulut.functions.project import load_project
from bulut.secrets.devserver import DevServer
from bulut.secrets.rewrap import rewrap_column
from bulut.secrets.vault import Vault

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("function-builds")]

PLACE_ORDER = """
import asyncio, json, sys
import httpx
from function import new

async def main(cfg):
    f = new()
    f.start(cfg)
    transport = httpx.ASGITransport(app=f.handle)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
        created = await client.post("/orders", json={
            "customer": "ada", "email": "ada@example.com", "card_token": "tok_ok",
            "items": [{"sku": "WIDGET-1", "quantity": 1}]})
        shown = await client.get(f"/orders/{created.json()['id']}")
    f.stop()
    print(json.dumps(shown.json()))

asyncio.run(main(json.loads(sys.argv[1])))
"""

CHARGE = """
import asyncio, json, sys
from cloudevents.core.v1.event import CloudEvent
from function import new

class Send:
    async def __call__(self, event, status=200):
        print(json.dumps({"type": event.get_type(), "data": event.get_data()}))
    async def http(self, message):
        if message["type"] == "http.response.start":
            print(json.dumps({"status": message["status"]}))

cfg, card = json.loads(sys.argv[1]), sys.argv[2]
f = new()
f.start(cfg)
event = CloudEvent(attributes={"type": "com.example.inventory.reserved", "source": "/inventory",
    "id": "r-1", "subject": "o-1", "datacontenttype": "application/json"},
    data={"order_id": "o-1", "amount_cents": 1999, "currency": "EUR", "card_token": card})
asyncio.run(f.handle({"event": event}, None, Send()))
f.stop()
"""
POLICIES = Path(__file__).resolve().parents[2] / "gitops" / "platform" / "vault" / "policies"


def run_function(repo_root: Path, name: str, script: str, *args: str) -> str:
    """The last line ``script`` prints, run in the function's own built environment."""
    environment = ensure_environment(
        load_project(repo_root / "functions" / name), repo_root / ".bulut" / "test-builds"
    )
    done = subprocess.run(
        [str(environment.python), "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
async def vault(tmp_path: Path) -> AsyncIterator[tuple[Vault, Path]]:
    server = DevServer(tmp_path / "vault", persistent=False)
    await server.start()
    token_file = tmp_path / "token"
    token_file.write_text(server.token)
    yield Vault(server.addr, server.token), token_file
    await server.stop()


def test_orders_stores_ciphertext_that_survives_rotation_and_rewrap(
    vault: tuple[Vault, Path], tmp_path: Path, repo_root: Path
) -> None:
    client, token_file = vault
    for key in ("orders-pii", "card-tokens"):
        client.ensure_transit_key(key)
    for policy in ("orders", "payments"):
        client.put_policy(policy, (POLICIES / f"{policy}.hcl").read_text())
    token_file.write_text(client.create_token(["orders"]))
    database = f"sqlite:///{tmp_path / 'orders.db'}"
    cfg = {"DATABASE_URL": database, "VAULT_ADDR": client.addr, "VAULT_TOKEN_FILE": str(token_file)}
    order = json.loads(run_function(repo_root, "orders", PLACE_ORDER, json.dumps(cfg)))
    assert order["email"] == "a***@example.com"

    def stored(column: str = "email") -> str:
        with sa.create_engine(database).connect() as connection:
            query = sa.text(f"SELECT {column} FROM orders")
            return str(connection.execute(query).scalar_one())

    card = stored("card_token")
    assert card.startswith("vault:v1:") and "tok_ok" not in card
    payments_token = tmp_path / "payments-token"
    payments_token.write_text(client.create_token(["payments"]))
    charge_cfg = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'payments.db'}",
        "PAYMENTS_PROVIDER_KEY": "sk_test",
        "VAULT_ADDR": client.addr,
        "VAULT_TOKEN_FILE": str(payments_token),
    }
    charged = json.loads(run_function(repo_root, "payments", CHARGE, json.dumps(charge_cfg), card))
    assert charged["type"] == "com.example.payment.authorized", charged
    # the orders token may not decrypt what it encrypted: a 503 (retry), nothing charged
    charge_cfg["VAULT_TOKEN_FILE"], charge_cfg["DATABASE_URL"] = str(token_file), "sqlite://"
    refused = json.loads(run_function(repo_root, "payments", CHARGE, json.dumps(charge_cfg), card))
    assert refused == {"status": 503}

    assert stored().startswith("vault:v1:")
    assert client.rotate("orders-pii") == 2
    report = rewrap_column(client, "orders-pii", url=database, table="orders", column="email")
    assert (report.rows, report.rewrapped, report.latest_version) == (1, 1, 2)
    assert stored().startswith("vault:v2:")
    assert client.decrypt("orders-pii", stored()) == b"ada@example.com"
    again = rewrap_column(client, "orders-pii", url=database, table="orders", column="email")
    assert again.rewrapped == 0, "values already at the latest version are left alone"
