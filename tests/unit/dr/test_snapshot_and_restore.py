"""Backup and restore of a stopped state dir, on files only (no servers)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tarfile
from contextlib import closing
from pathlib import Path

import pytest

from bulut.dr.locations import DirectoryLocation
from bulut.dr.manifest import sha256_file
from bulut.dr.restore import restore_backup
from bulut.dr.snapshot import take_backup
from bulut.dr.vaultdata import restore_vault
from bulut.errors import BackupError


def _database(path: Path, rows: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as db:
        db.execute("pragma journal_mode=wal")
        db.execute(
            "create table events(seq integer primary key, namespace, broker, id, source, type,"
            " ttl, headers, body, received)"
        )
        db.executemany(
            "insert into events values (?,?,?,?,?,?,?,?,?,?)",
            [(i, "drill", "default", f"e-{i}", "/s", "t", 255, b"", b"{}", 100.0 + i)
             for i in range(1, rows + 1)],
        )  # fmt: skip
        db.commit()


@pytest.fixture
def state(tmp_path: Path) -> Path:
    root = tmp_path / "state"
    _database(root / "bulut.db", 3)
    _database(root / "eventing" / "eventing" / "broker.db", 42)
    _database(root / "volumes" / "drill" / "recorder" / "recorder.db", 5)
    (root / "volumes" / "drill" / "recorder" / "notes.txt").write_text("kept")
    project = tmp_path / "fn"
    (project / "function").mkdir(parents=True)
    (project / "func.yaml").write_text("name: fn\n")
    (project / "function" / "func.py").write_text("def new(): ...\n")
    (project / "function" / "__pycache__").mkdir()
    (project / "function" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    environment = root / "builds" / "fn-0123456789ab"
    (environment / "bin").mkdir(parents=True)
    (environment / "bin" / "python").write_text("not backed up")
    (environment / ".bulut-environment.json").write_text(json.dumps({"project": str(project)}))
    return root


def test_a_backup_records_every_component_and_the_log_position(state: Path, tmp_path: Path) -> None:
    result = take_backup(state, DirectoryLocation(tmp_path / "backups"))
    manifest = result.manifest
    paths = {entry.path for entry in manifest.files}
    assert {"bulut.db", "eventing/eventing/broker.db", "volumes/drill/recorder/recorder.db",
            "volumes/drill/recorder/notes.txt", "builds/fn-0123456789ab/recipe.json",
            "builds/fn-0123456789ab/source/function/func.py"} <= paths  # fmt: skip
    assert not any("bin/python" in path or "__pycache__" in path for path in paths)
    assert (manifest.log.seq, manifest.log.events, manifest.log.received) == (42, 42, 142.0)
    assert manifest.vault == "none" and manifest.database == "sqlite"


def test_a_backup_leaves_out_the_secrets_and_tokens_projected_into_revisions(
    state: Path, tmp_path: Path
) -> None:
    revision = state / "volumes" / "shop" / ".revisions" / "payments-00001"
    for projected in ("vault-secrets/provider", "vault-secrets/token", "oidc/token"):
        (revision / projected).parent.mkdir(parents=True, exist_ok=True)
        (revision / projected).write_text("sk_secret")
    (state / "volumes" / "shop" / "payments" / "oidc").mkdir(parents=True)
    (state / "volumes" / "shop" / "payments" / "oidc" / "notes.txt").write_text("function data")
    backups = tmp_path / "backups"
    paths = {entry.path for entry in take_backup(state, DirectoryLocation(backups)).manifest.files}
    assert not any(".revisions" in path for path in paths), paths
    assert "volumes/shop/payments/oidc/notes.txt" in paths, "a function's own folder is kept"
    assert not [p for p in backups.rglob("*") if p.is_file() and b"sk_secret" in p.read_bytes()]


def test_a_backup_keeps_the_recipes_recorded_when_builds_live_outside_the_state_dir(
    state: Path, tmp_path: Path
) -> None:
    """`bulut up` builds in ~/.cache/bulut/builds and records what it runs in recipes/."""
    shutil.rmtree(state / "builds")
    recorded = state / "recipes" / "fn-0123456789ab"
    recorded.mkdir(parents=True)
    (recorded / "recipe.json").write_text(json.dumps({"project": str(tmp_path / "fn")}))
    paths = {e.path for e in take_backup(state, DirectoryLocation(tmp_path / "b")).manifest.files}
    assert {"builds/fn-0123456789ab/recipe.json",
            "builds/fn-0123456789ab/source/function/func.py"} <= paths  # fmt: skip


def test_a_restore_rebuilds_the_state_with_equal_checksums(state: Path, tmp_path: Path) -> None:
    location = DirectoryLocation(tmp_path / "backups")
    manifest = take_backup(state, location).manifest
    target = tmp_path / "restored"
    restore_backup(location, target)
    for entry in manifest.files:
        if entry.component in ("controlplane", "eventing", "volumes"):
            assert sha256_file(target / entry.path) == entry.sha256, entry.path
    assert (target / "recipes" / "fn-0123456789ab" / "recipe.json").is_file()


def test_a_corrupted_file_is_refused_and_the_target_is_untouched(
    state: Path, tmp_path: Path
) -> None:
    location = DirectoryLocation(tmp_path / "backups")
    manifest = take_backup(state, location).manifest
    damaged = tmp_path / "backups" / manifest.id / "eventing" / "eventing" / "broker.db"
    damaged.write_bytes(damaged.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(BackupError, match=r"eventing/eventing/broker.db: checksum mismatch"):
        restore_backup(location, tmp_path / "restored")
    assert not (tmp_path / "restored").exists()


def test_a_backup_without_its_manifest_is_partial(state: Path, tmp_path: Path) -> None:
    location = DirectoryLocation(tmp_path / "backups")
    manifest = take_backup(state, location).manifest
    (tmp_path / "backups" / manifest.id / "manifest.json").unlink()
    with pytest.raises(BackupError, match="no complete backup"):
        restore_backup(location, tmp_path / "restored")
    with pytest.raises(BackupError, match="partial"):
        restore_backup(location, tmp_path / "restored", backup_id=manifest.id)


def test_a_missing_file_is_refused_as_partial(state: Path, tmp_path: Path) -> None:
    location = DirectoryLocation(tmp_path / "backups")
    manifest = take_backup(state, location).manifest
    (tmp_path / "backups" / manifest.id / "bulut.db").unlink()
    with pytest.raises(BackupError, match=r"bulut\.db: missing from backup"):
        restore_backup(location, tmp_path / "restored")


def test_a_non_empty_target_needs_force_and_is_then_moved_aside(
    state: Path, tmp_path: Path
) -> None:
    location = DirectoryLocation(tmp_path / "backups")
    take_backup(state, location)
    with pytest.raises(BackupError, match="pass --force"):
        restore_backup(location, state)
    result = restore_backup(location, state, force=True)
    assert result.moved_aside is not None and (result.moved_aside / "bulut.db").is_file()


def test_an_unknown_component_is_refused(state: Path, tmp_path: Path) -> None:
    location = DirectoryLocation(tmp_path / "backups")
    take_backup(state, location)
    with pytest.raises(BackupError, match="unknown component"):
        restore_backup(location, state, only=frozenset({"database"}))


def test_a_missing_state_dir_cannot_be_backed_up(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no such state directory"):
        take_backup(tmp_path / "nope", DirectoryLocation(tmp_path / "b"))


def test_a_restore_reports_how_long_each_phase_took(state: Path, tmp_path: Path) -> None:
    location = DirectoryLocation(tmp_path / "backups")
    take_backup(state, location)
    result = restore_backup(location, tmp_path / "restored")
    assert {"read manifest", "fetch+verify", "place", "total"} <= set(result.phases)
    assert result.phases["total"] == result.seconds >= result.phases["fetch+verify"]


def test_a_forced_restore_keeps_revision_builds_where_they_were_built(
    state: Path, tmp_path: Path
) -> None:
    location = DirectoryLocation(tmp_path / "backups")
    take_backup(state, location)
    result = restore_backup(location, state, force=True)
    # A virtualenv only works at the path it was built for: it comes back to that path.
    assert (state / "builds" / "fn-0123456789ab" / "bin" / "python").read_text() == (
        "not backed up"
    )
    assert result.moved_aside is not None and not (result.moved_aside / "builds").exists()
    assert (state / "bulut.db").is_file() and (result.moved_aside / "bulut.db").is_file()


def test_a_target_holding_only_builds_needs_no_force(state: Path, tmp_path: Path) -> None:
    location = DirectoryLocation(tmp_path / "backups")
    take_backup(state, location)
    target = tmp_path / "restored"
    (target / "builds" / "cached").mkdir(parents=True)
    result = restore_backup(location, target)
    assert result.moved_aside is None and (target / "builds" / "cached").is_dir()
    assert (target / "bulut.db").is_file()


def test_a_stopped_vault_comes_back_as_its_files(tmp_path: Path) -> None:
    root = tmp_path / "state"
    _database(root / "bulut.db", 1)
    (root / "vault" / "data" / "raft").mkdir(parents=True)
    (root / "vault" / "data" / "raft" / "raft.db").write_bytes(b"raft log")
    (root / "vault" / "data" / "vault.db").write_bytes(b"fsm")
    (root / "vault" / "init.json").write_text('{"root_token": "t", "unseal_keys_b64": ["k"]}')
    location = DirectoryLocation(tmp_path / "backups")
    assert take_backup(root, location).manifest.vault == "raft-archive"
    target = tmp_path / "restored"
    restore_backup(location, target)
    assert (target / "vault" / "data" / "vault.db").read_bytes() == b"fsm"
    assert (target / "vault" / "data" / "raft" / "raft.db").read_bytes() == b"raft log"
    assert (target / "vault" / "init.json").stat().st_mode & 0o777 == 0o600


def _function_project(folder: Path) -> Path:
    (folder / "function").mkdir(parents=True)
    (folder / "func.yaml").write_text("name: fn\nruntime: python\ninvoke: cloudevent\n")
    (folder / "pyproject.toml").write_text('[project]\nname = "function"\nversion = "0.1.0"\n')
    (folder / "function" / "func.py").write_text("def new(): ...\n")
    return folder


def test_an_environment_whose_recipe_matches_is_reused_not_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulut.functions import environments
    from bulut.functions.project import load_project

    project = _function_project(tmp_path / "fn")
    builds = tmp_path / "shared-builds"
    root, key = environments.environment_path(load_project(project), builds)
    root.mkdir(parents=True)
    marker = {"key": key, "project": str(project.resolve())}
    (root / environments.MARKER).write_text(json.dumps(marker))
    state = tmp_path / "state"
    _database(state / "bulut.db", 1)
    (state / "builds" / root.name).mkdir(parents=True)
    (state / "builds" / root.name / environments.MARKER).write_text(json.dumps(marker))
    location = DirectoryLocation(tmp_path / "backups")
    take_backup(state, location)

    def no_build(*_args: object) -> None:
        raise AssertionError("an environment with the recipe's key was rebuilt")

    monkeypatch.setattr(environments, "_build", no_build)
    result = restore_backup(location, tmp_path / "restored", builds_dir=builds)
    assert result.environments == {root.name: f"reused {root.name}"}
    assert "environments" in result.phases


def test_a_recipe_whose_function_folder_is_gone_is_skipped(state: Path, tmp_path: Path) -> None:
    location = DirectoryLocation(tmp_path / "backups")
    take_backup(state, location)
    shutil.rmtree(tmp_path / "fn")
    result = restore_backup(location, tmp_path / "restored", builds_dir=tmp_path / "builds")
    assert result.environments["fn-0123456789ab"].startswith("skipped:")
    assert (tmp_path / "restored" / "bulut.db").is_file()


def test_a_refused_restore_says_so_before_fetching_anything(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulut.dr import restore

    location = DirectoryLocation(tmp_path / "backups")
    take_backup(state, location)
    fetched: list[str] = []
    monkeypatch.setattr(restore, "fetch", lambda _location, key, _target: fetched.append(key))
    with pytest.raises(BackupError, match="pass --force"):
        restore_backup(location, state)
    assert fetched == []


def test_an_older_backup_with_raft_files_still_restores(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    (staging / "vault" / "data" / "raft").mkdir(parents=True)
    (staging / "vault" / "data" / "vault.db").write_bytes(b"fsm")
    (staging / "vault" / "init.json").write_text("{}")
    restore_vault(staging, tmp_path / "state" / "vault", "raft-files")
    assert (tmp_path / "state" / "vault" / "data" / "vault.db").read_bytes() == b"fsm"


def test_an_archive_reaching_outside_its_folder_is_refused(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    (staging / "vault").mkdir(parents=True)
    (tmp_path / "evil").write_text("x")
    with tarfile.open(staging / "vault" / "data.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "evil", arcname="data/../../evil")
    (staging / "vault" / "init.json").write_text("{}")
    with pytest.raises(BackupError, match=r"vault/data\.tar\.gz: unexpected entry"):
        restore_vault(staging, tmp_path / "state" / "vault", "raft-archive")
    assert not (tmp_path / "state" / "vault" / "data").exists()
