"""vendor/: every vendored file is the upstream file vendor/SOURCES.txt names, byte for byte."""

from __future__ import annotations

import hashlib
from pathlib import Path

COLUMNS = ("file", "sha256", "repository", "path", "version", "commit", "license")


def listed(vendor_dir: Path) -> dict[str, dict[str, str]]:
    """The rows of vendor/SOURCES.txt by file."""
    rows: dict[str, dict[str, str]] = {}
    for line in (vendor_dir / "SOURCES.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            cells = [cell.strip() for cell in line.split("|")]
            assert len(cells) == len(COLUMNS), line
            rows[cells[0]] = dict(zip(COLUMNS, cells, strict=True))
    return rows


def data_files(vendor_dir: Path) -> set[str]:
    return {
        str(path.relative_to(vendor_dir))
        for path in vendor_dir.rglob("*")
        if path.is_file() and path.name != "SOURCES.txt"
    }


def test_every_vendored_file_is_listed_and_every_listed_file_is_there(vendor_dir: Path) -> None:
    assert set(listed(vendor_dir)) == data_files(vendor_dir)


def test_every_vendored_file_matches_its_recorded_checksum(vendor_dir: Path) -> None:
    changed = [
        name
        for name, row in listed(vendor_dir).items()
        if hashlib.sha256((vendor_dir / name).read_bytes()).hexdigest() != row["sha256"]
    ]
    assert changed == []


def test_every_vendored_file_names_its_repository_commit_and_license(vendor_dir: Path) -> None:
    for name, row in listed(vendor_dir).items():
        assert row["repository"].startswith("github.com/"), name
        assert len(row["commit"]) == 40 and int(row["commit"], 16) >= 0, name
        assert row["license"] == "Apache-2.0", name


def test_each_area_keeps_the_provenance_notes_it_came_with(vendor_dir: Path) -> None:
    areas = {Path(name).parent for name in data_files(vendor_dir)}
    assert all((vendor_dir / area / "SOURCES.txt").is_file() for area in areas)
