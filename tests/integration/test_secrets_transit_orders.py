"""The orders function encrypts e-mail with a real OpenBao's Transit; rotate + rewrap in place."""

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
    client.ensure_transit_key("orders-pii")
    environment = ensure_environment(
        load_project(repo_root / "functions" / "orders"), repo_root / ".bulut" / "test-builds"
    )
    database = f"sqlite:///{tmp_path / 'orders.db'}"
    cfg = {"DATABASE_URL": database, "VAULT_ADDR": client.addr, "VAULT_TOKEN_FILE": str(token_file)}
    shown = subprocess.run(
        [str(environment.python), "-c", PLACE_ORDER, json.dumps(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    order = json.loads(shown.stdout.strip().splitlines()[-1])
    assert order["email"] == "a***@example.com"

    def stored() -> str:
        with sa.create_engine(database).connect() as connection:
            return str(connection.execute(sa.text("SELECT email FROM orders")).scalar_one())

    assert stored().startswith("vault:v1:")
    assert client.rotate("orders-pii") == 2
    report = rewrap_column(client, "orders-pii", url=database, table="orders", column="email")
    assert (report.rows, report.rewrapped, report.latest_version) == (1, 1, 2)
    assert stored().startswith("vault:v2:")
    assert client.decrypt("orders-pii", stored()) == b"ada@example.com"
    again = rewrap_column(client, "orders-pii", url=database, table="orders", column="email")
    assert again.rewrapped == 0, "values already at the latest version are left alone"
