"""The last disaster-recovery drill report: the newest ``*.md`` or ``*.json`` in a folder."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

MAX_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class DrillReport:
    """A report file's name, modification time and text (JSON pretty-printed)."""

    name: str
    modified: float
    text: str


def latest_report(folder: Path | None) -> DrillReport | None:
    """The newest report under ``folder`` (recursively), or None."""
    if folder is None or not folder.is_dir():
        return None
    candidates = [p for p in folder.rglob("*") if p.suffix in (".md", ".json") and p.is_file()]
    if not candidates:
        return None
    newest = max(candidates, key=lambda p: (p.stat().st_mtime, p.name))
    text = newest.read_text(errors="replace")
    if newest.suffix == ".json":
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), indent=2)
    return DrillReport(str(newest.relative_to(folder)), newest.stat().st_mtime, text[:MAX_CHARS])
