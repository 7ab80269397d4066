"""Scenario files parse into typed drills; mistakes name the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bulut.dr.drills.scenario import CHECKS, load_scenario, parse_scenario
from bulut.errors import ManifestError

REPO = Path(__file__).resolve().parents[4]


def _document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": "x",
        "platform": {"filename": "app.yaml"},
        "seed": {"broker": "drill/default", "events": 10, "afterBackup": 5},
        "subscriber": {"service": "drill/recorder"},
        "backup": {"location": "s3", "shipping": True},
        "disaster": "delete-state",
        "restore": "backup",
        "objectives": {"rtoSeconds": 20, "rpoEvents": 0},
    }
    document.update(changes)
    return document


def test_a_scenario_parses_with_defaults() -> None:
    scenario = parse_scenario(_document(), source="x.yaml")
    assert (scenario.seed.namespace, scenario.seed.name) == ("drill", "default")
    assert (scenario.subscriber.namespace, scenario.subscriber.name) == ("drill", "recorder")
    assert scenario.location == "s3" and scenario.shipping
    assert scenario.checks == CHECKS and scenario.seed.after_backup == 5
    assert scenario.objectives.rto_seconds == 20.0
    assert not scenario.sealed


def test_a_sealed_backup_is_asked_for_in_the_backup_section() -> None:
    document = _document(backup={"location": "directory", "sealed": True})
    assert parse_scenario(document, source="x.yaml").sealed


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"disaster": "flood"}, "disaster: 'flood' is not one of"),
        ({"seed": {"broker": "default"}}, "seed.broker: expected <namespace>/<name>"),
        ({"seed": {"broker": "a/b", "events": 0}}, "seed.events: expected a whole number >= 1"),
        ({"platform": {}}, "set exactly one of filename or kustomize"),
        ({"checks": ["services-answer", "vibes"]}, r"checks\[1\]: 'vibes'"),
        ({"backup": {"location": "tape"}}, "backup.location"),
        ({"disater": "kill-runtime"}, "unknown field 'disater'"),
    ],
)
def test_mistakes_name_the_file_and_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ManifestError, match=message) as caught:
        parse_scenario(_document(**changes), source="x.yaml")
    assert str(caught.value).startswith("x.yaml: ")


def test_every_committed_scenario_parses() -> None:
    files = sorted((REPO / "disaster-recovery" / "drills").glob("*.yaml"))
    assert {path.stem for path in files} >= {"standard", "kill-runtime", "lose-vault"}
    for path in files:
        assert load_scenario(path).name == path.stem


def test_an_unreadable_file_is_a_manifest_error(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: [")
    with pytest.raises(ManifestError, match="not valid YAML"):
        load_scenario(tmp_path / "bad.yaml")
