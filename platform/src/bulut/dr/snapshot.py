"""`bulut dr backup`: one consistent snapshot of a local platform, running or stopped.

Order matters for a running platform (docs/adr/0010-backup-format.md):

1. the control plane (SQLite backup API, or ``pg_dump``);
2. the broker log with its delivery outcomes and cursors (SQLite backup API);
3. each function's own files under ``volumes/`` (SQLite backup API for databases), without
   what the runtime projects into a revision's pod (``.revisions/<rev>/vault-secrets`` and
   ``oidc``: Vault Agent's and the kubelet's memory volumes on a cluster, rendered again at
   every start: secrets and tokens never go into a backup);
4. revision builds as recipes (the marker and the function's source, not the venv);
5. Vault (a Raft snapshot of the running node, or its files when stopped).

Vault comes last so that every Transit ciphertext in the copied databases was made with a
key version the Vault copy holds. A running node's snapshot is turned into Raft files
(``vaultdata.materialise``: a scratch OpenBao, ~2–3 s) while the other files are
checksummed and uploaded, so a restore only copies files back.

The log is copied *before* the functions' databases: whatever a function recorded after
the log copy is, after a restore, either already there or delivered again (at least
once), so no acknowledged event is lost between the two copies.

Files are staged in a temporary folder, checksummed, uploaded, and ``manifest.json`` is
written last: a backup without it is partial and is never restored.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bulut.errors import BackupError, BulutError
from bulut.functions.environments import MARKER, RECIPE

from .eventlog import LOG_NAME, find_logs, position
from .locations import Location
from .manifest import (
    MANIFEST,
    FileEntry,
    LogPosition,
    Manifest,
    component_of,
    entry_for,
    new_backup_id,
)
from .postgres import dump
from .sealing import SEALED_SUFFIX, BackupKey, seal
from .sqlite import copy_database, is_side_file, is_sqlite
from .vaultdata import INIT, materialise, snapshot_vault

Progress = Callable[[str], None]
SKIPPED_SOURCE_DIRS = frozenset({"__pycache__", ".venv", "node_modules", ".pytest_cache"})
# under volumes/<ns>/.revisions/<revision>/: rendered secrets and projected tokens
PROJECTED_DIRS = frozenset({"vault-secrets", "oidc"})


def projected(relative: Path) -> bool:
    """Whether a path under ``volumes/`` is a secret or token the runtime projected."""
    parts = relative.parts
    return len(parts) > 3 and parts[1] == ".revisions" and parts[3] in PROJECTED_DIRS


@dataclass(frozen=True)
class BackupResult:
    """What a backup wrote, and how long it took (in total and per phase)."""

    manifest: Manifest
    location: str
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)


@contextmanager
def timed(phases: dict[str, float] | None, name: str) -> Iterator[None]:
    """Add the wall time of the block to ``phases[name]``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        if phases is not None:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - started


def _stage_tree(
    source: Path, staging: Path, prefix: str, skip: Callable[[Path], bool] = lambda _: False
) -> None:
    """Copy a folder: SQLite files through the backup API, other files as they are."""
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        if not path.is_file() or is_side_file(path) or skip(path.relative_to(source)):
            continue
        target = staging / prefix / path.relative_to(source)
        if is_sqlite(path):
            copy_database(path, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def _recipes(state_dir: Path) -> dict[str, Path]:
    """The environments this platform runs, by name: as ``bulut up`` records them in
    ``recipes/``, and the markers of builds kept inside the state dir (older layouts)."""
    found = {m.parent.name: m for m in sorted(state_dir.glob(f"builds/*/{MARKER}"))}
    found.update((m.parent.name, m) for m in sorted(state_dir.glob(f"recipes/*/{RECIPE}")))
    return found


def _stage_recipes(state_dir: Path, staging: Path) -> None:
    """Each environment's recipe and its project's source (never the venv itself)."""
    for name, marker in sorted(_recipes(state_dir).items()):
        target = staging / "builds" / name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(marker, target / RECIPE)
        project = Path(json.loads(marker.read_text()).get("project", ""))
        if not project.is_dir():
            continue
        for path in sorted(project.rglob("*")):
            relative = path.relative_to(project)
            if path.is_file() and not SKIPPED_SOURCE_DIRS.intersection(relative.parts):
                copy = target / "source" / relative
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, copy)


def stage(
    state_dir: Path,
    staging: Path,
    *,
    database_url: str | None = None,
    progress: Progress | None = None,
    phases: dict[str, float] | None = None,
    materialise_vault: bool = True,
) -> tuple[str, str, LogPosition]:
    """Write the snapshot's files into ``staging``; returns (database, vault, log position).

    With ``materialise_vault=False`` a running Vault stays a snapshot (kind
    ``raft-snapshot``) and the caller runs :func:`~.vaultdata.materialise` itself.
    """
    say = progress or (lambda _message: None)
    say("control plane")
    database = "sqlite"
    with timed(phases, "control plane"):
        if database_url and not database_url.startswith("sqlite"):
            dump(database_url, staging / "controlplane" / "bulut.pgdump")
            database = "postgresql"
        elif (state_dir / "bulut.db").is_file():
            copy_database(state_dir / "bulut.db", staging / "bulut.db")
    say("event log and delivery state")
    with timed(phases, "event log"):
        _stage_tree(state_dir / "eventing", staging, "eventing")
        logs = find_logs(staging / "eventing")
        log = position(logs[0]) if logs else LogPosition()
    say("function data")
    with timed(phases, "function data"):
        _stage_tree(state_dir / "volumes", staging, "volumes", skip=projected)
    say("revision build recipes")
    with timed(phases, "build recipes"):
        _stage_recipes(state_dir, staging)
    say("vault")
    with timed(phases, "vault snapshot"):
        vault = snapshot_vault(state_dir / "vault", staging)
    if materialise_vault and vault == "raft-snapshot":
        with timed(phases, "vault raft files"):
            vault = materialise(staging)
    return database, vault, log


def _upload(
    location: Location, backup_id: str, staging: Path, paths: list[Path]
) -> list[FileEntry]:
    entries = []
    for path in paths:
        entry = entry_for(staging, path, component_of(path.relative_to(staging).as_posix()))
        entries.append(entry)
        location.put(f"{backup_id}/{entry.path}", path)
    return entries


def _upload_all(
    location: Location,
    backup_id: str,
    staging: Path,
    vault: str,
    phases: dict[str, float],
    key: BackupKey | None,
) -> tuple[list[FileEntry], str, tuple[str, ...]]:
    """Checksum and upload every staged file; Vault's Raft files are made meanwhile."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vault-files") as pool:

        def vault_files() -> str:
            with timed(phases, "vault raft files"):
                return materialise(staging) if vault == "raft-snapshot" else vault

        # The slow part of Vault (a scratch OpenBao) overlaps the other uploads.
        pending = pool.submit(vault_files)
        with timed(phases, "checksums and upload"):
            files = _upload(
                location,
                backup_id,
                staging,
                sorted(
                    path
                    for top in staging.iterdir()
                    if top.name != "vault"
                    for path in (top, *top.rglob("*"))
                    if path.is_file()
                ),
            )
        vault = pending.result()
    sealed = _seal_vault_keys(staging, backup_id, key)
    with timed(phases, "checksums and upload"):
        files += _upload(
            location,
            backup_id,
            staging,
            sorted(p for p in (staging / "vault").rglob("*") if p.is_file()),
        )
    return files, vault, sealed


def _seal_vault_keys(staging: Path, backup_id: str, key: BackupKey | None) -> tuple[str, ...]:
    """With a key, Vault's unseal key and root token are stored sealed, never in clear."""
    init = staging / INIT
    if key is None or not init.is_file():
        return ()
    init.with_name(init.name + SEALED_SUFFIX).write_bytes(seal(key, init.read_bytes(), backup_id))
    init.unlink()
    return (INIT,)


def take_backup(
    state_dir: Path,
    location: Location,
    *,
    database_url: str | None = None,
    progress: Progress | None = None,
    now: Callable[[], float] = time.time,
    key: BackupKey | None = None,
) -> BackupResult:
    """Snapshot ``state_dir`` into ``location``; the manifest goes last.

    With ``key``, Vault's ``init.json`` (unseal key, root token) is stored sealed.
    """
    started = time.monotonic()
    if not state_dir.is_dir():
        raise BackupError(f"{state_dir}: no such state directory (nothing to back up)")
    created = now()
    backup_id = new_backup_id(created, secrets.token_hex(3))
    say = progress or (lambda _message: None)
    phases: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bulut-backup-") as temporary:
        staging = Path(temporary)
        database, vault, log = stage(
            state_dir,
            staging,
            database_url=database_url,
            progress=progress,
            phases=phases,
            materialise_vault=False,
        )
        say("checksums and upload")
        try:
            files, vault, sealed = _upload_all(location, backup_id, staging, vault, phases, key)
        except BaseException:
            # No manifest was written, so this is a partial backup: do not leave it behind.
            with contextlib.suppress(BulutError, OSError):
                location.delete(backup_id)
            raise
        manifest = Manifest(
            id=backup_id,
            created=created,
            source=str(state_dir.resolve()),
            database=database,
            vault=vault,
            log=log,
            files=tuple(sorted(files, key=lambda entry: entry.path)),
            notes=(f"broker log: {LOG_NAME}",),
            sealed=sealed,
        )
        location.put_bytes(f"{backup_id}/{MANIFEST}", manifest.to_json().encode())
    return BackupResult(manifest, location.url, time.monotonic() - started, phases)
