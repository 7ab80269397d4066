"""`bulut secrets` end to end: a real dev server, the real console script."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bulut.secrets.connection import remember
from bulut.secrets.devserver import DevServer
from bulut.settings import Settings

pytestmark = pytest.mark.integration

BULUT = [sys.executable, "-m", "bulut.cli.main"]


@pytest.fixture
async def state_dir(tmp_path: Path) -> AsyncIterator[Path]:
    dev = DevServer(tmp_path / "vault", persistent=False)
    await dev.start()
    remember(Settings(state_dir=tmp_path), dev.addr, dev.token)
    yield tmp_path
    await dev.stop()


def _bulut(state_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BULUT_STATE_DIR": str(state_dir)}
    return subprocess.run(
        [*BULUT, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60
    )


def test_put_then_get_round_trips_a_value_read_from_stdin(state_dir: Path) -> None:
    put = _bulut(state_dir, "secrets", "put", "shop/payments/provider", "api_key=-", stdin="sk_1\n")
    assert put.returncode == 0, put.stderr
    assert "sk_1" not in put.stdout + put.stderr
    got = _bulut(state_dir, "secrets", "get", "shop/payments/provider", "--field", "api_key")
    assert (got.returncode, got.stdout.strip()) == (0, "sk_1")


def test_a_value_in_argv_is_refused_with_exit_2(state_dir: Path) -> None:
    result = _bulut(state_dir, "secrets", "put", "shop/x", "api_key=sk_live_oops")
    assert result.returncode == 2
    assert result.stderr.startswith("error: api_key: refusing a value on the command line")
    assert "sk_live_oops" not in result.stderr


def test_without_a_running_platform_the_error_says_how_to_start_one(tmp_path: Path) -> None:
    result = _bulut(tmp_path, "secrets", "get", "x")
    assert result.returncode == 1
    assert "start the platform with `bulut up`" in result.stderr


def test_rotate_key_then_rewrap_a_database_column_in_place(state_dir: Path) -> None:
    import sqlalchemy as sa

    from bulut.secrets.connection import connect

    vault = connect(Settings(state_dir=state_dir))
    vault.ensure_transit_key("orders-pii")
    database = f"sqlite:///{state_dir / 'orders.db'}"
    engine = sa.create_engine(database)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE orders (id TEXT PRIMARY KEY, email TEXT)"))
        for index in range(3):
            ciphertext = vault.encrypt("orders-pii", f"user{index}@example.com".encode())
            connection.execute(
                sa.text("INSERT INTO orders VALUES (:id, :email)"),
                {"id": str(index), "email": ciphertext},
            )
    rotated = _bulut(state_dir, "secrets", "rotate-key", "orders-pii")
    assert rotated.stdout.strip() == "transit/orders-pii: now at version 2", rotated.stderr
    result = _bulut(state_dir, "secrets", "rewrap", "orders-pii", "--database", database)
    assert result.stdout.strip() == "orders.email: 3 of 3 values rewrapped to transit/orders-pii v2"
    with engine.connect() as connection:
        values = connection.execute(sa.text("SELECT email FROM orders")).scalars().all()
    engine.dispose()
    assert all(value.startswith("vault:v2:") for value in values)
