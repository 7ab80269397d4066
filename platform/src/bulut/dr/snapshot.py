"""`bulut dr backup`: one consistent snapshot of a local platform, running or stopped.

Order matters for a running platform (docs/adr/0010-backup-format.md):

1. the control plane (SQLite backup API, or ``pg_dump``);
2. the broker log with its delivery outcomes and cursors (SQLite backup API);
3. each function's own files under ``volumes/`` (SQLite backup API for databases);
4. revision builds as recipes (the marker and the function's source, not the venv);
5. Vault (a Raft snapshot of the running node, or its files when stopped).

The log is copied *before* the functions' databases: whatever a function recorded after
the log copy is, after a restore, either already there or delivered again (at least
once), so no acknowledged event is lost between the two copies.

Files are staged in a temporary folder, checksummed, uploaded, and ``manifest.json`` is
written last: a backup without it is partial and is never restored.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bulut.errors import BackupError

from .eventlog import LOG_NAME, find_logs, position
from .locations import Location
from .manifest import MANIFEST, FileEntry, LogPosition, Manifest, entry_for, new_backup_id
from .postgres import dump
from .sqlite import copy_database, is_side_file, is_sqlite
from .vaultdata import stage_vault

Progress = Callable[[str], None]
RECIPE_MARKER = ".bulut-environment.json"
SKIPPED_SOURCE_DIRS = frozenset({"__pycache__", ".venv", "node_modules", ".pytest_cache"})


@dataclass(frozen=True)
class BackupResult:
    """What a backup wrote, and how long it took."""

    manifest: Manifest
    location: str
    seconds: float


def _stage_tree(source: Path, staging: Path, prefix: str) -> None:
    """Copy a folder: SQLite files through the backup API, other files as they are."""
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        if not path.is_file() or is_side_file(path):
            continue
        target = staging / prefix / path.relative_to(source)
        if is_sqlite(path):
            copy_database(path, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def _stage_recipes(builds: Path, staging: Path) -> None:
    """Each environment's marker and its project's source (never the venv itself)."""
    if not builds.is_dir():
        return
    for marker in sorted(builds.glob(f"*/{RECIPE_MARKER}")):
        target = staging / "builds" / marker.parent.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(marker, target / "recipe.json")
        project = Path(json.loads(marker.read_text()).get("project", ""))
        if not project.is_dir():
            continue
        for path in sorted(project.rglob("*")):
            relative = path.relative_to(project)
            if path.is_file() and not SKIPPED_SOURCE_DIRS.intersection(relative.parts):
                copy = target / "source" / relative
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, copy)


def _component(path: str) -> str:
    head = path.split("/", 1)[0]
    return {
        "bulut.db": "controlplane",
        "controlplane": "controlplane",
        "eventing": "eventing",
        "volumes": "volumes",
        "builds": "recipes",
        "vault": "vault",
        "shipped": "eventing",
    }.get(head, "other")


def stage(
    state_dir: Path,
    staging: Path,
    *,
    database_url: str | None = None,
    progress: Progress | None = None,
) -> tuple[str, str, LogPosition]:
    """Write the snapshot's files into ``staging``; returns (database, vault, log position)."""
    say = progress or (lambda _message: None)
    say("control plane")
    database = "sqlite"
    if database_url and not database_url.startswith("sqlite"):
        dump(database_url, staging / "controlplane" / "bulut.pgdump")
        database = "postgresql"
    elif (state_dir / "bulut.db").is_file():
        copy_database(state_dir / "bulut.db", staging / "bulut.db")
    say("event log and delivery state")
    _stage_tree(state_dir / "eventing", staging, "eventing")
    logs = find_logs(staging / "eventing")
    log = position(logs[0]) if logs else LogPosition()
    say("function data")
    _stage_tree(state_dir / "volumes", staging, "volumes")
    say("revision build recipes")
    _stage_recipes(state_dir / "builds", staging)
    say("vault")
    vault = stage_vault(state_dir / "vault", staging)
    return database, vault, log


def take_backup(
    state_dir: Path,
    location: Location,
    *,
    database_url: str | None = None,
    progress: Progress | None = None,
    now: Callable[[], float] = time.time,
) -> BackupResult:
    """Snapshot ``state_dir`` into ``location``; the manifest goes last."""
    started = time.monotonic()
    if not state_dir.is_dir():
        raise BackupError(f"{state_dir}: no such state directory (nothing to back up)")
    created = now()
    backup_id = new_backup_id(created, secrets.token_hex(3))
    say = progress or (lambda _message: None)
    with tempfile.TemporaryDirectory(prefix="bulut-backup-") as temporary:
        staging = Path(temporary)
        database, vault, log = stage(
            state_dir, staging, database_url=database_url, progress=progress
        )
        files: list[FileEntry] = []
        say("checksums and upload")
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            entry = entry_for(staging, path, _component(path.relative_to(staging).as_posix()))
            files.append(entry)
            location.put(f"{backup_id}/{entry.path}", path)
        manifest = Manifest(
            id=backup_id,
            created=created,
            source=str(state_dir.resolve()),
            database=database,
            vault=vault,
            log=log,
            files=tuple(files),
            notes=(f"broker log: {LOG_NAME}",),
        )
        location.put_bytes(f"{backup_id}/{MANIFEST}", manifest.to_json().encode())
    return BackupResult(manifest, location.url, time.monotonic() - started)
