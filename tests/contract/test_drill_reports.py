"""The drill reports committed as examples name no folder of the machine they ran on."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPORTS = Path(__file__).resolve().parents[2] / "disaster-recovery" / "reports"
ABSOLUTE = re.compile(r"(?<![\w:/.])/(?:[\w.-]+/)+[\w.-]+")  # /a/b..., not s3://a/b or a/b


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("path", sorted(REPORTS.glob("*.json")), ids=lambda p: p.name)
def test_no_json_report_names_an_absolute_path(path: Path) -> None:
    assert [s for s in strings(json.loads(path.read_text())) if s.startswith("/")] == []


@pytest.mark.parametrize("path", sorted(REPORTS.glob("*.md")), ids=lambda p: p.name)
def test_no_markdown_report_names_an_absolute_path(path: Path) -> None:
    assert ABSOLUTE.findall(path.read_text()) == []


def test_the_pattern_finds_a_machine_path_and_leaves_urls_alone() -> None:
    assert ABSOLUTE.findall("- location: /work/main/.bulut/drills/x/backups") != []
    assert ABSOLUTE.findall("- location: s3://backups/drill or .bulut/drills/x") == []
