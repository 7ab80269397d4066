"""`bulut dr restore`: check a backup completely, then rebuild a state dir from it.

Nothing in the target changes until every file has been fetched and matched its
sha256: a partial or corrupted backup is refused with a :class:`BackupError` naming the
file. An existing state dir is only replaced with ``force``, and then it is moved aside
(``<state>.before-restore-<time>``), never deleted, so a restore can be rolled back.

The phases, each timed in :attr:`RestoreResult.phases`:

1. **fetch+verify**: every file is copied into a staging folder beside the target and
   hashed in the same pass (files in parallel); the one check that decides.
2. **prepare**, side by side once everything is verified: replaying the shipped log into
   the staged broker log, Vault's Raft files for older backups that hold only a snapshot
   (a scratch OpenBao, offline), ``pg_restore`` for a PostgreSQL control plane, and the
   function environments named by the recipes (reused when one with the same key exists).
3. **place**: the old state is moved aside (its revision builds, a cache at the same
   path, are kept), then the staged folders are renamed into the target: no copy.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulut.errors import BackupError, BulutError
from bulut.functions.environments import RECIPE
from bulut.settings import default_backup_key_file

from .locations import Location, backup_ids, fetch
from .manifest import MANIFEST, Manifest, verify
from .postgres import restore as pg_restore
from .sealing import SEALED_SUFFIX, BackupKey, unseal
from .vaultdata import prepare_vault, restore_vault

Progress = Callable[[str], None]
IGNORED_IN_TARGET = frozenset({".gitignore"})
FETCH_WORKERS = 4
BUILDS = "builds"


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did, how long it took in total and per phase."""

    manifest: Manifest
    state_dir: Path
    seconds: float
    moved_aside: Path | None = None
    replayed: int = 0
    phases: dict[str, float] = field(default_factory=dict)
    environments: dict[str, str] = field(default_factory=dict)


@contextmanager
def _timed(phases: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        phases[name] = phases.get(name, 0.0) + time.perf_counter() - started


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


def fetch_and_verify(
    location: Location, manifest: Manifest, staging: Path, *, workers: int = FETCH_WORKERS
) -> None:
    """Copy every file of the backup into ``staging``, hashing as it is written, then check
    every sha256 against the manifest (one read per file; files in parallel)."""

    def one(path: str) -> tuple[str, str | None]:
        return path, fetch(location, f"{manifest.id}/{path}", staging / path)

    paths = [entry.path for entry in manifest.files]
    if workers > 1 and len(paths) > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            actual = dict(pool.map(one, paths))
    else:
        actual = dict(map(one, paths))
    verify(manifest, actual)


def _unseal_all(staging: Path, manifest: Manifest, key: BackupKey | None) -> None:
    """Open every sealed file in ``staging`` (a wrong key fails before anything is placed)."""
    for path in manifest.sealed:
        assert key is not None  # checked before fetching
        sealed = staging / (path + SEALED_SUFFIX)
        plain = unseal(key, sealed.read_bytes(), manifest.id, where=f"{manifest.id}/{path}")
        target = staging / path
        target.write_bytes(plain)
        target.chmod(0o600)
        sealed.unlink()


def _holds_state(state_dir: Path) -> bool:
    """True when ``state_dir`` holds more than revision builds (a cache) and ignored files."""
    if not state_dir.is_dir():
        return False
    return any(p.name not in IGNORED_IN_TARGET | {BUILDS} for p in state_dir.iterdir())


def _check_target(state_dir: Path, force: bool) -> None:
    if _holds_state(state_dir) and not force:
        raise BackupError(
            f"{state_dir} is not empty: stop the platform and pass --force to replace it "
            "(the current state is moved aside, not deleted)"
        )


def _prepare_target(state_dir: Path, force: bool) -> Path | None:
    _check_target(state_dir, force)
    if not _holds_state(state_dir):
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = state_dir.with_name(f"{state_dir.name}.before-restore-{stamp}")
    state_dir.rename(aside)
    if (aside / BUILDS).is_dir():
        # Revision builds are a cache, not state (a backup holds only their recipes): put
        # them back at the very path they were built for, where each is still valid.
        state_dir.mkdir(parents=True)
        (aside / BUILDS).rename(state_dir / BUILDS)
    return aside


COMPONENTS = frozenset({"controlplane", "eventing", "volumes", "recipes", "vault"})
_PLACES = {"controlplane": "bulut.db", "eventing": "eventing", "volumes": "volumes"}


def _place(staging: Path, state_dir: Path, manifest: Manifest, only: frozenset[str]) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    for component, name in _PLACES.items():
        source, target = staging / name, state_dir / name
        if component in only and source.exists():
            if target.is_dir():
                shutil.rmtree(target)
            source.replace(target)
    if "recipes" in only and (staging / BUILDS).is_dir():
        shutil.rmtree(state_dir / "recipes", ignore_errors=True)
        (staging / BUILDS).replace(state_dir / "recipes")
    if "vault" in only:
        restore_vault(staging, state_dir / "vault", manifest.vault)


def _environments(recipes: Path, builds_dir: Path) -> dict[str, str]:
    """Each recipe's environment, for the function folder the platform will run.

    The environment key hashes the project's dependency files as they are *now*: when an
    environment with that key is complete in ``builds_dir`` it is reused (no uv run);
    otherwise it is built. A recipe whose project folder is gone is skipped: `bulut up`
    builds from the function folders it is given, not from the backup. Environments are
    built side by side (uv's cache is shared and locked; two recipes of one environment
    wait on its build lock).
    """
    found = sorted(recipes.glob(f"*/{RECIPE}"))
    if not found:
        return {}
    with ThreadPoolExecutor(len(found), thread_name_prefix="environment") as pool:
        return dict(pool.map(lambda recipe: _environment(recipe, builds_dir), found))


def _environment(recipe: Path, builds_dir: Path) -> tuple[str, str]:
    from bulut.functions.environments import ensure_environment, environment_path, is_complete
    from bulut.functions.project import load_project

    name = recipe.parent.name
    try:
        project_path = Path(json.loads(recipe.read_text()).get("project", ""))
        if not project_path.is_dir():
            return name, f"skipped: {project_path} is not here"
        project = load_project(project_path)
        root, key = environment_path(project, builds_dir)
        reused = is_complete(root, key)
        ensure_environment(project, builds_dir)
    except (BulutError, OSError, ValueError) as error:
        return name, f"failed: {error}"  # `bulut up` builds it again, and says why
    return name, f"reused {root.name}" if reused else f"built {root.name}"


def rebuild_environments(state_dir: Path, builds_dir: Path) -> list[str]:
    """Make each restored recipe's environment ready (reused when its key matches)."""
    return list(_environments(state_dir / "recipes", builds_dir))


def _run_side_by_side(
    jobs: dict[str, Callable[[], Any]], phases: dict[str, float]
) -> dict[str, Any]:
    """Run independent jobs in threads; time each; re-raise the first failure after all end."""
    if not jobs:
        return {}

    def timed(name: str, job: Callable[[], Any]) -> Any:
        with _timed(phases, name):
            return job()

    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="restore") as pool:
        futures: dict[str, Future[Any]] = {
            name: pool.submit(timed, name, job) for name, job in jobs.items()
        }
    results: dict[str, Any] = {}
    for name, future in futures.items():
        error = future.exception()
        if error is not None:
            raise error
        results[name] = future.result()
    return results


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
    builds_dir: Path | None = None,
    key: BackupKey | None = None,
) -> RestoreResult:
    """Verify the backup, then rebuild ``state_dir`` from it.

    ``after_fetch(staging, manifest)`` may add to the staged state before it is placed
    (log shipping replays shipped events there) and returns how many events it added.
    ``only`` restores some components into an existing state dir (e.g. ``{"vault"}``
    after Vault's data was lost); without it the whole state dir is rebuilt.
    ``builds_dir`` (where the platform keeps function environments, by default
    ``<state>/builds``) makes each recipe's environment ready during the restore, reused
    when one with the same key is there; without it `bulut up` builds what is missing.
    ``key`` opens what the backup holds sealed (Vault's unseal key, when it was taken
    with a backup key); without the right one nothing is placed.
    """
    unknown = (only or frozenset()) - COMPONENTS
    if unknown:
        raise BackupError(
            f"unknown component(s) {', '.join(sorted(unknown))}: pick from "
            f"{', '.join(sorted(COMPONENTS))}"
        )
    chosen_components = only or COMPONENTS
    started = time.monotonic()
    phases: dict[str, float] = {}
    say = progress or (lambda _message: None)
    with _timed(phases, "read manifest"):
        chosen = backup_id or latest_backup(location)
        manifest = read_manifest(location, chosen)
    if (
        "controlplane" in chosen_components
        and manifest.database == "postgresql"
        and not database_url
    ):
        raise BackupError(
            "this backup holds a PostgreSQL control plane: set BULUT_DATABASE_URL to the "
            "database to restore into"
        )
    if manifest.sealed and "vault" in chosen_components and key is None:
        raise BackupError(
            f"backup {manifest.id} holds Vault's unseal key sealed with a backup key: "
            "pass --key-file FILE (or set BULUT_BACKUP_KEY_FILE, or put the key at "
            f"{default_backup_key_file() or '~/.config/bulut/backup.key'})"
        )
    if only is None:
        _check_target(state_dir, force)  # before any work: say so at once
    parent = state_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".bulut-restore-", dir=parent) as temporary:
        staging = Path(temporary)
        say(f"fetching and verifying {len(manifest.files)} files of {chosen}")
        with _timed(phases, "fetch+verify"):
            fetch_and_verify(location, manifest, staging)
        if "vault" in chosen_components:
            _unseal_all(staging, manifest, key)
        say("preparing")
        jobs: dict[str, Callable[[], Any]] = {}
        if after_fetch is not None:
            jobs["replay shipped log"] = lambda: after_fetch(staging, manifest)
        if "vault" in chosen_components:
            jobs["vault raft files"] = lambda: prepare_vault(staging, manifest.vault)
        if "controlplane" in chosen_components and manifest.database == "postgresql":
            url = database_url or ""
            jobs["control plane pg_restore"] = lambda: pg_restore(
                staging / "controlplane" / "bulut.pgdump", url
            )
        if builds_dir is not None and "recipes" in chosen_components:
            builds = builds_dir
            jobs["environments"] = lambda: _environments(staging / BUILDS, builds)
        results = _run_side_by_side(jobs, phases)
        say("placing files")
        with _timed(phases, "place"):
            aside = _prepare_target(state_dir, force) if only is None else None
            _place(staging, state_dir, manifest, chosen_components)
    phases["total"] = time.monotonic() - started
    return RestoreResult(
        manifest,
        state_dir,
        phases["total"],
        aside,
        int(results.get("replay shipped log", 0)),
        phases,
        dict(results.get("environments", {})),
    )
