"""Finding kustomizations in a tree (``loading.kustomize_build`` builds one).

A folder is a kustomization root when it holds ``kustomization.yaml`` (or ``.yml``,
``Kustomization``). ``kind: Component`` folders are only buildable from an overlay that lists
them under ``components:``, so a tree walk skips them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import yaml

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def kustomization_file(directory: Path) -> Path | None:
    """The kustomization file of a folder, if it has one."""
    for name in KUSTOMIZATION_FILES:
        path = directory / name
        if path.is_file():
            return path
    return None


def is_kustomization(directory: Path) -> bool:
    """Whether a folder is a kustomization root."""
    return kustomization_file(directory) is not None


def is_component(directory: Path) -> bool:
    """Whether a kustomization folder is a ``kind: Component``."""
    path = kustomization_file(directory)
    if path is None:
        return False
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return False
    return isinstance(data, dict) and data.get("kind") == "Component"


def kustomization_roots(root: Path) -> Iterator[Path]:
    """Every buildable kustomization folder under ``root`` (itself included), sorted.

    Dot-folders and kustomize Components (built only as part of an overlay) are skipped.
    """
    candidates = [root, *sorted(p for p in root.rglob("*") if p.is_dir())]
    for child in candidates:
        if any(part.startswith(".") for part in child.relative_to(root).parts):
            continue
        if is_kustomization(child) and not is_component(child):
            yield child
