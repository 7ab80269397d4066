"""RTO and RPO come from recorded facts; the report renders them."""

from __future__ import annotations

import json
from pathlib import Path

from bulut.dr.drills.report import Check, DrillReport, Loss, compute_loss, compute_rto, report_name
from bulut.dr.drills.runner import shown_location, write_report


def test_nothing_lost_is_an_rpo_of_zero() -> None:
    assert compute_loss({"a": 1.0, "b": 2.0}, {"a", "b", "extra"}) == Loss(0, 0.0)


def test_lost_events_count_and_span_the_acked_time_lost() -> None:
    acks = {"a": 10.0, "b": 11.0, "c": 12.5, "d": 14.0}
    loss = compute_loss(acks, {"a", "b"})
    assert (loss.events, loss.seconds, loss.lost_ids) == (2, 3.0, ("c", "d"))


def test_losing_everything_spans_the_lost_acks() -> None:
    assert compute_loss({"a": 1.0, "b": 4.0}, set()).seconds == 3.0


def test_rto_runs_from_disaster_to_first_good_response() -> None:
    assert compute_rto(100.0, 104.5) == 4.5
    assert compute_rto(100.0, None) is None


def _report(**changes: object) -> DrillReport:
    report = DrillReport("standard", "delete-state", 0.0, acked=10, rto_seconds=5.0,
                         objectives={"rtoSeconds": 10.0, "rpoEvents": 0.0},
                         checks=[Check("no-acked-event-lost", True, "10 of 10")])  # fmt: skip
    for key, value in changes.items():
        setattr(report, key, value)
    return report


def test_a_report_passes_only_when_checks_and_objectives_hold() -> None:
    assert _report().passed
    assert not _report(rto_seconds=11.0).passed
    assert not _report(rto_seconds=None).passed
    assert not _report(loss=Loss(1, 0.5)).passed
    assert not _report(checks=[Check("x", False, "")]).passed
    assert not _report(error="boom").passed


def test_the_report_renders_markdown_and_json() -> None:
    report = _report()
    markdown = report.to_markdown()
    assert markdown.startswith("# Drill report: standard\n")
    assert "| RTO (disaster → first good response) | 5.00 s | ≤ 10.0 s |" in markdown
    assert "| RPO (acked events lost) | 0 of 10 | ≤ 0 |" in markdown
    document = json.loads(report.to_json())
    assert document["passed"] is True and document["rto_seconds"] == 5.0
    assert report_name(report) == "standard-19700101T000000Z"


def test_a_report_names_a_backup_folder_relative_to_where_the_drill_ran(tmp_path: Path) -> None:
    inside = tmp_path / ".bulut" / "drills" / "standard-x" / "backups"
    assert shown_location(str(inside), tmp_path) == ".bulut/drills/standard-x/backups"
    assert shown_location("s3://backups/drill", tmp_path) == "s3://backups/drill"
    assert shown_location("/srv/backups", tmp_path) == "/srv/backups"


def test_reports_are_written_twice_once_as_the_latest(tmp_path: Path) -> None:
    markdown, document = write_report(_report(), tmp_path / "reports")
    assert markdown.read_text() == (tmp_path / "reports" / "standard-latest.md").read_text()
    assert json.loads(document.read_text())["scenario"] == "standard"
