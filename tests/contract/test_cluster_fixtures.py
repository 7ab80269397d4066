"""`bulut validate` reports each seeded bad case in tests/fixtures/cluster with its named rule.

Every fixture breaks one rule of bulut.manifests.cluster (its file name); the run exits 2,
prints ``[<rule>]`` with a fix, and no other cluster rule fires.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bulut.cli.main import build_app
from bulut.manifests.cluster import RULES

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "cluster"
CASES = sorted(path.stem for path in FIXTURES.glob("*.yaml"))
RULE = re.compile(r"\[([a-z0-9-]+)\]")


def test_every_rule_has_a_seeded_bad_case() -> None:
    assert sorted(RULES) == CASES


@pytest.mark.parametrize("rule", CASES)
def test_a_seeded_bad_case_is_reported_with_its_rule_and_a_fix(rule: str) -> None:
    result = CliRunner().invoke(build_app(), ["validate", str(FIXTURES / f"{rule}.yaml")])
    assert result.exit_code == 2, result.output
    reported = [line for line in result.output.splitlines() if RULE.search(line)]
    assert reported, result.output
    assert {RULE.search(line).group(1) for line in reported} == {rule}  # type: ignore[union-attr]
    assert all("; fix: " in line for line in reported)
