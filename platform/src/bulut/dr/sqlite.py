"""Consistent copies of SQLite databases that may be open in a running process.

SQLite's online backup API copies a database page by page inside a read transaction, so
the copy is one committed state even while the platform (or a function) keeps writing;
in WAL mode the writer is never blocked.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

HEADER = b"SQLite format 3\x00"
SIDE_FILES = ("-wal", "-shm", "-journal")
PAGES_PER_STEP = 4096


def is_sqlite(path: Path) -> bool:
    """True when ``path`` starts with the SQLite header."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(HEADER)) == HEADER
    except OSError:
        return False


def is_side_file(path: Path) -> bool:
    """WAL, shared-memory and rollback-journal files (their content is in the copy)."""
    return path.name.endswith(SIDE_FILES)


def copy_database(source: Path, target: Path) -> None:
    """Copy ``source`` into a fresh ``target`` with the online backup API."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30.0)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=PAGES_PER_STEP)
            # A standalone file: fold the copy's own WAL in, so one file carries everything.
            dst.execute("pragma wal_checkpoint(truncate)")
        finally:
            dst.close()
    finally:
        src.close()
    for suffix in SIDE_FILES:
        Path(f"{target}{suffix}").unlink(missing_ok=True)
