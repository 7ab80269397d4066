"""The manifest decides whether a backup is whole: every file present, every sha256 equal."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.dr.manifest import (
    FileEntry,
    LogPosition,
    Manifest,
    entry_for,
    new_backup_id,
    problems,
    select_expired,
    verify,
)
from bulut.errors import BackupError


def _manifest(*files: FileEntry) -> Manifest:
    return Manifest(
        "20261128T000000Z-abc", 1.0, "/state", "sqlite", "none", LogPosition(7, 2.0, 7), files
    )


A = FileEntry("bulut.db", "controlplane", 3, "a" * 64)
B = FileEntry("eventing/broker.db", "eventing", 5, "b" * 64)


def test_a_whole_backup_has_no_problems() -> None:
    assert problems(_manifest(A, B), {A.path: A.sha256, B.path: B.sha256}) == []


def test_a_missing_file_is_reported_as_a_partial_backup() -> None:
    found = problems(_manifest(A, B), {A.path: A.sha256, B.path: None})
    assert found == [
        "eventing/broker.db: missing from backup 20261128T000000Z-abc (partial backup)"
    ]


def test_a_checksum_mismatch_names_the_file_and_both_checksums() -> None:
    with pytest.raises(BackupError) as caught:
        verify(_manifest(A, B), {A.path: "c" * 64, B.path: None})
    message = str(caught.value)
    assert message.startswith("refusing to restore: bulut.db: checksum mismatch")
    assert "a" * 64 in message and "c" * 64 in message and "(and 1 more)" in message


def test_the_manifest_round_trips_through_json() -> None:
    manifest = _manifest(A, B)
    assert Manifest.from_json(manifest.to_json()) == manifest
    assert manifest.size == 8
    assert manifest.components() == {"controlplane": 1, "eventing": 1}


def test_a_damaged_or_foreign_manifest_is_a_backup_error() -> None:
    with pytest.raises(BackupError, match="damaged manifest"):
        Manifest.from_json('{"format": "bulut-backup/1"}', where="x/manifest.json")
    with pytest.raises(BackupError, match="unknown backup format 'other'"):
        Manifest.from_json('{"format": "other"}')


def test_entries_carry_the_relative_path_size_and_sha256(tmp_path: Path) -> None:
    (tmp_path / "eventing").mkdir()
    (tmp_path / "eventing" / "x").write_bytes(b"abc")
    entry = entry_for(tmp_path, tmp_path / "eventing" / "x", "eventing")
    assert entry == FileEntry(
        "eventing/x", "eventing", 3,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    )  # fmt: skip


def test_backup_ids_sort_by_time() -> None:
    assert new_backup_id(0.0, "x") == "19700101T000000Z-x"
    assert new_backup_id(60.0, "a") > new_backup_id(59.0, "z")


def test_retention_removes_the_oldest_beyond_keep() -> None:
    ids = ["20261128T030000Z-c", "20261128T010000Z-a", "20261128T020000Z-b"]
    assert select_expired(ids, 2) == ["20261128T010000Z-a"]
    assert select_expired(ids, 5) == []
    with pytest.raises(BackupError, match="at least 1"):
        select_expired(ids, 0)


def test_copy_hashed_digests_exactly_what_it_writes(tmp_path: Path) -> None:
    from bulut.dr.manifest import copy_hashed, sha256_file

    source = tmp_path / "source.bin"
    source.write_bytes(bytes(range(256)) * 9000)  # more than one chunk
    digest = copy_hashed(source, tmp_path / "copy.bin")
    assert digest == sha256_file(source) == sha256_file(tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == source.read_bytes()
