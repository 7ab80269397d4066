"""Every local drill, for real: `bulut up` subprocesses killed with -9, files deleted or
corrupted, backups in a directory or a real S3 server, restores, and the subscriber's own
database checked for every acknowledged event."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bulut.dr.drills.runner import DrillRunner, write_report
from bulut.dr.drills.scenario import load_scenario
from bulut.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

REPO = Path(__file__).resolve().parents[2]
DRILLS = REPO / "disaster-recovery" / "drills"


@pytest.mark.parametrize("scenario", ["standard", "kill-runtime", "corrupt-database", "lose-vault"])
def test_the_drill_recovers_with_no_acked_event_lost(scenario: str, tmp_path: Path) -> None:
    drill = load_scenario(DRILLS / f"{scenario}.yaml")
    report = DrillRunner(drill, REPO, Settings()).run()
    markdown, _ = write_report(report, tmp_path)
    assert report.error is None, markdown.read_text()
    assert report.acked == drill.seed.events + drill.seed.after_backup
    assert report.loss.events == 0, markdown.read_text()
    assert [c.name for c in report.checks if not c.ok] == [], markdown.read_text()
    assert report.passed, markdown.read_text()
    assert str(REPO) not in report.to_json() + report.to_markdown()  # no machine paths
    # The drill's own `bulut up` never became the user's kubectl context.
    assert not Path(os.environ["KUBECONFIG"]).exists()
    if drill.restore == "backup" and drill.shipping:
        assert report.replayed_events == drill.seed.after_backup
