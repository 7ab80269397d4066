"""Backups and the state directory are readable by their owner only (issue #20, item 10):
state files were 0644 and backups held card tokens and Vault's keys world-readable."""

from __future__ import annotations

import stat
from pathlib import Path

from bulut.dr.locations import DirectoryLocation
from bulut.dr.snapshot import take_backup
from bulut.local import Layout


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_state_directory_and_its_folders_are_0700(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "state", tmp_path / "builds")
    layout.create()
    for folder in (layout.root, layout.volumes, layout.eventing):
        assert mode(folder) == 0o700, folder
    (tmp_path / "open").mkdir(mode=0o755)
    Layout(tmp_path / "open").create()  # an existing state dir is closed too
    assert mode(tmp_path / "open") == 0o700


def test_backup_files_and_folders_are_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "volumes" / "payments").mkdir(parents=True)
    (state / "volumes" / "payments" / "cards.db").write_text("tok_visa")
    (state / "volumes" / "payments" / "cards.db").chmod(0o644)
    location = DirectoryLocation(tmp_path / "backups")
    backup_id = take_backup(state, location).manifest.id
    root = tmp_path / "backups"
    assert mode(root) == 0o700
    files = [p for p in (root / backup_id).rglob("*") if p.is_file()]
    assert files
    assert {mode(p) for p in files} == {0o600}
    assert {mode(p) for p in (root / backup_id).rglob("*") if p.is_dir()} <= {0o700}
