"""What identifies a function's code: a digest of its files (a local image digest)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# Never part of the code: caches, environments, VCS metadata.
IGNORED_DIRS = frozenset(
    {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
)
IGNORED_SUFFIXES = (".pyc", ".pyo", ".swp", "~")


def is_source(path: Path, root: Path) -> bool:
    """Whether a file under ``root`` belongs to the function's code."""
    relative = path.relative_to(root)
    if any(part in IGNORED_DIRS for part in relative.parts[:-1]):
        return False
    name = relative.name
    return not (name.endswith(IGNORED_SUFFIXES) or name.startswith(".#"))


def source_files(root: Path) -> list[Path]:
    """The function's files, sorted (what an image build would copy)."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_DIRS)
        for name in sorted(files):
            path = Path(folder, name)
            if is_source(path, root):
                found.append(path)
    return found


def source_digest(root: Path) -> str:
    """``sha256:<hex>`` over every source file's path and bytes (a save changes it)."""
    digest = hashlib.sha256()
    for path in source_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return f"sha256:{digest.hexdigest()}"
