"""Vendored data: every file is the one its SOURCES.txt names, byte for byte.

Two folders, one provenance file each and no file in both: ``platform/src/bulut/apis/crds``
(every CRD and schema the code, ``bulut validate``, the tests and the docs read) and
``vendor/`` (the CloudEvents conformance cases the tests read).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

COLUMNS = ("file", "sha256", "repository", "path", "version", "commit", "license")
WRITTEN_HERE = "written here"


def listed(folder: Path) -> dict[str, dict[str, str]]:
    """The rows of ``<folder>/SOURCES.txt`` by file."""
    rows: dict[str, dict[str, str]] = {}
    for line in (folder / "SOURCES.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            cells = [cell.strip() for cell in line.split("|")]
            assert len(cells) == len(COLUMNS), line
            rows[cells[0]] = dict(zip(COLUMNS, cells, strict=True))
    return rows


def data_files(folder: Path) -> set[str]:
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and path.name != "SOURCES.txt" and "__pycache__" not in path.parts
    }


@pytest.fixture(params=["crds", "vendor"])
def folder(request: pytest.FixtureRequest, crds_dir: Path, vendor_dir: Path) -> Path:
    return crds_dir if request.param == "crds" else vendor_dir


def test_every_vendored_file_is_listed_and_every_listed_file_is_there(folder: Path) -> None:
    assert set(listed(folder)) == data_files(folder)


def test_every_upstream_file_matches_its_recorded_checksum(folder: Path) -> None:
    changed = [
        name
        for name, row in listed(folder).items()
        if row["repository"] != WRITTEN_HERE
        and hashlib.sha256((folder / name).read_bytes()).hexdigest() != row["sha256"]
    ]
    assert changed == []


def test_every_upstream_file_names_its_repository_commit_and_license(folder: Path) -> None:
    for name, row in listed(folder).items():
        if row["repository"] == WRITTEN_HERE:
            continue
        assert row["repository"].startswith("github.com/"), name
        assert len(row["commit"]) == 40 and int(row["commit"], 16) >= 0, name
        assert row["license"] == "Apache-2.0", name


def test_the_crds_have_one_provenance_file(crds_dir: Path) -> None:
    nested = [p for p in crds_dir.rglob("SOURCES.txt") if p.parent != crds_dir]
    assert nested == []


def test_no_schema_is_vendored_twice(crds_dir: Path, vendor_dir: Path) -> None:
    def digests(folder: Path) -> set[str]:
        return {hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in data_files(folder)}

    assert digests(crds_dir) & digests(vendor_dir) == set()
    assert not (vendor_dir / "schemas").exists()


def test_only_kubernetes_built_in_kinds_are_written_here(crds_dir: Path) -> None:
    written = {name for name, row in listed(crds_dir).items() if row["repository"] == WRITTEN_HERE}
    assert all(name.startswith("core/") for name in written), written
