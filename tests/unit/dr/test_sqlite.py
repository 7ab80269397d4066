"""The SQLite copy is one committed state, standalone, even while a writer holds the file."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from bulut.dr.sqlite import copy_database, is_side_file, is_sqlite


def test_a_copy_of_a_wal_database_holds_committed_rows_and_no_side_files(tmp_path: Path) -> None:
    source = tmp_path / "a.db"
    writer = sqlite3.connect(source, isolation_level=None)
    writer.execute("pragma journal_mode=wal")
    writer.execute("create table t(x)")
    writer.executemany("insert into t values (?)", [(i,) for i in range(100)])
    writer.execute("begin")
    writer.execute("insert into t values (-1)")  # uncommitted: not in the copy
    copy_database(source, tmp_path / "copy" / "a.db")
    writer.execute("rollback")
    writer.close()
    with closing(sqlite3.connect(tmp_path / "copy" / "a.db")) as db:
        assert db.execute("select count(*), min(x) from t").fetchone() == (100, 0)
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == ["a.db"]


def test_sqlite_files_are_recognised_by_their_header(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "x.db").execute("create table t(x)").connection.close()
    (tmp_path / "y.txt").write_text("hello")
    assert is_sqlite(tmp_path / "x.db") and not is_sqlite(tmp_path / "y.txt")
    assert is_side_file(Path("x.db-wal")) and not is_side_file(Path("x.db"))
