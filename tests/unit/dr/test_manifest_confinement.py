"""A backup manifest cannot make verify or restore write outside the backup (issue #20, item 3).

An entry with an absolute path (or ``../``) made ``bulut dr verify --from DIR`` and
``bulut dr restore`` write that file, even when the command then exited 2.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bulut.dr.locations import DirectoryLocation
from bulut.dr.manifest import Manifest, sha256_file
from bulut.dr.restore import fetch_and_verify, read_manifest, restore_backup
from bulut.dr.snapshot import take_backup
from bulut.errors import BackupError


def _backup_with_entry(tmp_path: Path, path: str, component: str = "volumes") -> tuple[Path, str]:
    """A real backup whose manifest also lists ``path`` (its bytes placed where fetch reads)."""
    state = tmp_path / "state"
    (state / "volumes" / "svc").mkdir(parents=True)
    (state / "volumes" / "svc" / "data.txt").write_text("kept")
    backups = tmp_path / "backups"
    backup_id = take_backup(state, DirectoryLocation(backups)).manifest.id
    payload = backups / "payload"
    payload.write_text("written by an attacker")
    source = backups / backup_id / path.lstrip("/")
    source.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(payload, source)
    manifest_file = backups / backup_id / "manifest.json"
    document = json.loads(manifest_file.read_text())
    document["files"].append(
        {"path": path, "component": component, "size": 22, "sha256": sha256_file(payload)}
    )
    manifest_file.write_text(json.dumps(document))
    return backups, backup_id


def _outside_paths(tmp_path: Path) -> list[tuple[str, Path]]:
    """Manifest paths and where verify into ``tmp_path / "staging"`` would write them."""
    outside = tmp_path / "outside" / "evil.txt"
    return [(str(outside), outside), ("volumes/../../x/evil.txt", tmp_path / "x" / "evil.txt")]


@pytest.mark.parametrize("case", [0, 1])
def test_verify_refuses_a_path_outside_the_backup_before_writing_anything(
    tmp_path: Path, case: int
) -> None:
    path, outside = _outside_paths(tmp_path)[case]
    backups, backup_id = _backup_with_entry(tmp_path, path)
    location = DirectoryLocation(backups)
    with pytest.raises(BackupError, match=r"files\[.*\]\.path"):
        manifest = read_manifest(location, backup_id)
        fetch_and_verify(location, manifest, tmp_path / "staging")
    assert not outside.exists()


def test_the_cli_verify_and_restore_exit_2_and_write_nothing_outside(tmp_path: Path) -> None:
    path, outside = _outside_paths(tmp_path)[0]
    backups, _ = _backup_with_entry(tmp_path, path)
    bulut = [sys.executable, "-m", "bulut.cli.main"]
    verified = subprocess.run([*bulut, "dr", "verify", "--from", str(backups)], check=False)
    assert verified.returncode == 2
    assert not outside.exists()
    restore = ["dr", "restore", "--from", str(backups), "--state-dir", str(tmp_path / "new")]
    restored = subprocess.run([*bulut, *restore], check=False, capture_output=True, text=True)
    assert restored.returncode == 2
    assert "files[" in restored.stderr
    assert not outside.exists()
    assert not (tmp_path / "new").exists()


def test_a_path_outside_its_components_root_is_refused(tmp_path: Path) -> None:
    backups, backup_id = _backup_with_entry(tmp_path, "eventing/x.db", component="vault")
    with pytest.raises(BackupError, match=r"eventing/x\.db.*not under vault"):
        restore_backup(DirectoryLocation(backups), tmp_path / "new", backup_id=backup_id)
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("sealed", ["/etc/passwd", "vault/../../x", ""])
def test_a_sealed_path_outside_the_backup_is_refused(sealed: str) -> None:
    document = {
        "format": "bulut-backup/1", "id": "20260101T000000Z-a", "created": 0.0, "source": "s",
        "database": "sqlite", "vault": "none", "log": {}, "files": [], "sealed": [sealed],
    }  # fmt: skip
    with pytest.raises(BackupError, match="sealed"):
        Manifest.from_json(json.dumps(document))


@pytest.mark.parametrize("backup_id", ["../elsewhere", "/abs", "a/b", ""])
def test_a_backup_id_that_is_not_one_name_is_refused(backup_id: str) -> None:
    document = {
        "format": "bulut-backup/1", "id": backup_id, "created": 0.0, "source": "s",
        "database": "sqlite", "vault": "none", "log": {}, "files": [],
    }  # fmt: skip
    with pytest.raises(BackupError, match="id"):
        Manifest.from_json(json.dumps(document))


@pytest.mark.parametrize("text", ['""', "[]", "42", "null"])
def test_a_manifest_that_is_not_a_json_object_is_a_damaged_backup_not_a_crash(text: str) -> None:
    """Found by tests/fuzz/test_documents.py: it raised AttributeError."""
    with pytest.raises(BackupError, match="damaged manifest"):
        Manifest.from_json(text)
