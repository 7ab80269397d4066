"""Backup keys: sealed files open only with their key and in their own backup."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bulut.dr.sealing import BackupKey, is_sealed, seal, unseal, write_new_key
from bulut.errors import BackupError

SECRET = b'{"unseal_keys_b64": ["c2VjcmV0"], "root_token": "s.root"}'


def test_a_sealed_file_opens_with_its_key_in_its_backup(tmp_path: Path) -> None:
    key = write_new_key(tmp_path / "backup.key")
    blob = seal(key, SECRET, "20261128T100000Z-abc123")
    assert is_sealed(blob) and SECRET not in blob and b"s.root" not in blob
    assert unseal(key, blob, "20261128T100000Z-abc123", where="x") == SECRET


def test_another_key_does_not_open_it_and_says_which_key_was_tried(tmp_path: Path) -> None:
    blob = seal(write_new_key(tmp_path / "a.key"), SECRET, "b1")
    other = write_new_key(tmp_path / "b.key")
    with pytest.raises(BackupError, match=r"b1/vault/init.json: .*b\.key does not open it"):
        unseal(other, blob, "b1", where="b1/vault/init.json")


def test_a_sealed_file_moved_into_another_backup_does_not_open(tmp_path: Path) -> None:
    key = write_new_key(tmp_path / "backup.key")
    with pytest.raises(BackupError, match="does not open it"):
        unseal(key, seal(key, SECRET, "b1"), "b2", where="b2/vault/init.json")


def test_a_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "backup.key"
    key = write_new_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert BackupKey.load(path).secret == key.secret
    with pytest.raises(BackupError, match="already exists"):
        write_new_key(path)
    assert BackupKey.load(path).secret == key.secret


def test_a_file_that_is_not_a_key_is_refused_with_how_to_make_one(tmp_path: Path) -> None:
    path = tmp_path / "backup.key"
    path.write_text("hunter2\n")
    with pytest.raises(BackupError, match=r"not a backup key.*bulut dr keygen"):
        BackupKey.load(path)
    with pytest.raises(BackupError, match="cannot read the backup key"):
        BackupKey.load(tmp_path / "missing.key")
