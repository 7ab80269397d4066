"""Figures come from one place: docs/figures.md. Documents quote them by name, drill-report
figures match their report, and no cold-start or RTO figure is stated without its marker."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .blocks import REPO, documents

TABLE = REPO / "docs" / "figures.md"
ROW = re.compile(r"^\| `(?P<name>[\w-]+)` \| (?P<value>[^|]+?) \| [^|]+ \| (?P<source>[^|]+) \|$")
QUOTED = re.compile(
    r"(?P<value>~?\d[\d.]*(?:–\d[\d.]*)? ?(?:ms|µs|s|x))<!-- figure:(?P<name>[\w-]+) -->"
)
# A figure stated as current: "RTO 1.8 s", "**RTO** ≈ 4 s", "cold start ... ~5 ms".
STATED = (
    re.compile(r"RTO\**\s*(?:≈|~|=)?\s*\d[\d.]* ?s\b(?!<!--)"),
    re.compile(r"(?i)cold start[^.]{0,60}?~\d[\d.]* ?ms\b(?!<!--)"),
    re.compile(r"(?i)zygote \(~\d[\d.]* ?ms\b(?!<!--)"),
)


def figures() -> dict[str, tuple[str, str]]:
    """name -> (value, source) from docs/figures.md."""
    found = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            found[match.group("name")] = (match.group("value"), match.group("source"))
    return found


def quoting_documents() -> list[Path]:
    """Documents that state figures as current (decision records are dated history)."""
    return [p for p in documents() if "adr" not in p.relative_to(REPO).parts]


def test_the_table_has_the_figures_the_documents_quote() -> None:
    assert {"cold-start", "rto-standard", "rto-lose-vault"} <= set(figures())


@pytest.mark.parametrize("name", sorted(figures()))
def test_a_figure_from_a_drill_report_is_that_reports_rto(name: str) -> None:
    value, source = figures()[name]
    report = re.search(r"disaster-recovery/reports/[\w-]+\.json", source)
    if report is None:
        assert re.search(r"bench/|-m bench\.", source), f"{name}: name the command that measures it"
        return
    rto = json.loads((REPO / report.group(0)).read_text())["rto_seconds"]
    assert value == f"{rto:.2f} s", f"{name}: {report.group(0)} says {rto:.2f} s"


@pytest.mark.parametrize("path", quoting_documents(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_quoted_figure_is_the_tables(path: Path) -> None:
    table = figures()
    for match in QUOTED.finditer(path.read_text(encoding="utf-8")):
        name, value = match.group("name"), match.group("value")
        assert name in table, f"{path.name}: no figure {name!r} in docs/figures.md"
        assert value == table[name][0], f"{path.name}: {name} is {table[name][0]}, not {value}"


@pytest.mark.parametrize("path", quoting_documents(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_cold_start_or_rto_figure_is_stated_without_its_marker(path: Path) -> None:
    text = re.sub(r"\(was [^)]*\)", "", path.read_text(encoding="utf-8"))  # history is dated
    for pattern in STATED:
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            raise AssertionError(
                f"{path.relative_to(REPO)}:{line}: {match.group(0)!r} is stated without "
                "a marker: quote it from docs/figures.md as VALUE<!-- figure:NAME -->"
            )
