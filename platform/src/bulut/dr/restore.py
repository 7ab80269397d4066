"""`bulut dr restore`: check a backup completely, then rebuild a state dir from it.

Nothing in the target changes until every file has been fetched and matched its
sha256: a partial or corrupted backup is refused with a :class:`BackupError` naming the
file. An existing state dir is only replaced with ``force``, and then it is moved aside
(``<state>.before-restore-<time>``), never deleted, so a restore can be rolled back.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bulut.errors import BackupError

from .locations import Location, backup_ids
from .manifest import MANIFEST, Manifest, sha256_file, verify
from .postgres import restore as pg_restore
from .vaultdata import restore_vault

Progress = Callable[[str], None]
IGNORED_IN_TARGET = frozenset({".gitignore"})


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did."""

    manifest: Manifest
    state_dir: Path
    seconds: float
    moved_aside: Path | None = None
    replayed: int = 0


def latest_backup(location: Location) -> str:
    """The newest complete backup's id."""
    found = backup_ids(location)
    if not found:
        raise BackupError(f"{location.url}: no complete backup here (none has a manifest.json)")
    return found[-1]


def read_manifest(location: Location, backup_id: str) -> Manifest:
    """The manifest of ``backup_id``; a missing one means the backup is partial."""
    raw = location.get_bytes(f"{backup_id}/{MANIFEST}")
    if raw is None:
        raise BackupError(
            f"{location.url}/{backup_id}: no {MANIFEST} (the backup is partial or does not "
            "exist); pick another with `bulut dr list`"
        )
    return Manifest.from_json(raw.decode(errors="replace"), where=f"{backup_id}/{MANIFEST}")


def fetch_and_verify(location: Location, manifest: Manifest, staging: Path) -> None:
    """Download every file of the backup into ``staging`` and check its sha256."""
    actual: dict[str, str | None] = {}
    for entry in manifest.files:
        target = staging / entry.path
        found = location.get(f"{manifest.id}/{entry.path}", target)
        actual[entry.path] = sha256_file(target) if found else None
    verify(manifest, actual)


def _prepare_target(state_dir: Path, force: bool) -> Path | None:
    if not state_dir.exists():
        return None
    contents = [p for p in state_dir.iterdir() if p.name not in IGNORED_IN_TARGET]
    if not contents:
        return None
    if not force:
        raise BackupError(
            f"{state_dir} is not empty: stop the platform and pass --force to replace it "
            "(the current state is moved aside, not deleted)"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = state_dir.with_name(f"{state_dir.name}.before-restore-{stamp}")
    state_dir.rename(aside)
    return aside


COMPONENTS = frozenset({"controlplane", "eventing", "volumes", "recipes", "vault"})
_PLACES = {"controlplane": "bulut.db", "eventing": "eventing", "volumes": "volumes"}


def _place(
    staging: Path,
    state_dir: Path,
    manifest: Manifest,
    database_url: str | None,
    only: frozenset[str],
) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    for component, name in _PLACES.items():
        source, target = staging / name, state_dir / name
        if component in only and source.exists():
            if target.is_dir():
                shutil.rmtree(target)
            source.replace(target)
    if "recipes" in only and (staging / "builds").is_dir():
        shutil.rmtree(state_dir / "recipes", ignore_errors=True)
        (staging / "builds").replace(state_dir / "recipes")
    if "controlplane" in only and manifest.database == "postgresql":
        if not database_url:
            raise BackupError(
                "this backup holds a PostgreSQL control plane: set BULUT_DATABASE_URL to the "
                "database to restore into"
            )
        pg_restore(staging / "controlplane" / "bulut.pgdump", database_url)
    if "vault" in only:
        restore_vault(staging, state_dir / "vault", manifest.vault)


def rebuild_environments(state_dir: Path, builds_dir: Path) -> list[str]:
    """Build each recipe's environment again (from the original project when it exists)."""
    from bulut.functions.environments import ensure_environment
    from bulut.functions.project import load_project

    built = []
    for recipe in sorted((state_dir / "recipes").glob("*/recipe.json")):
        project_path = Path(json.loads(recipe.read_text()).get("project", ""))
        if not project_path.is_dir():
            project_path = recipe.parent / "source"
        ensure_environment(load_project(project_path), builds_dir)
        built.append(recipe.parent.name)
    return built


def restore_backup(
    location: Location,
    state_dir: Path,
    *,
    backup_id: str | None = None,
    force: bool = False,
    database_url: str | None = None,
    progress: Progress | None = None,
    after_fetch: Callable[[Path, Manifest], int] | None = None,
    only: frozenset[str] | None = None,
) -> RestoreResult:
    """Verify the backup, then rebuild ``state_dir`` from it.

    ``after_fetch(staging, manifest)`` may add to the staged state before it is placed
    (log shipping replays shipped events there) and returns how many events it added.
    ``only`` restores some components into an existing state dir (e.g. ``{"vault"}``
    after Vault's data was lost); without it the whole state dir is rebuilt.
    """
    unknown = (only or frozenset()) - COMPONENTS
    if unknown:
        raise BackupError(
            f"unknown component(s) {', '.join(sorted(unknown))}: pick from "
            f"{', '.join(sorted(COMPONENTS))}"
        )
    started = time.monotonic()
    say = progress or (lambda _message: None)
    chosen = backup_id or latest_backup(location)
    manifest = read_manifest(location, chosen)
    parent = state_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".bulut-restore-", dir=parent) as temporary:
        staging = Path(temporary)
        say(f"fetching and verifying {len(manifest.files)} files of {chosen}")
        fetch_and_verify(location, manifest, staging)
        replayed = after_fetch(staging, manifest) if after_fetch is not None else 0
        aside = _prepare_target(state_dir, force) if only is None else None
        say("placing files")
        _place(staging, state_dir, manifest, database_url, only or COMPONENTS)
    return RestoreResult(manifest, state_dir, time.monotonic() - started, aside, replayed)
