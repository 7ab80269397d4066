"""`bulut pipeline list|run`: the summary, the listing, bad input exiting 2."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bulut.cli.main import build_app
from bulut.cli.pipeline import summary_rows
from bulut.errors import InvalidInputError, NotFoundError
from bulut.workflows import PIPELINES
from bulut.workflows.runner import Status, StepResult


def test_the_summary_has_step_status_duration_and_reason() -> None:
    rows = summary_rows(
        [
            StepResult("lint", Status.passed, 0.25),
            StepResult("push", Status.skipped, reason="needs a container registry"),
        ]
    )
    assert rows == [
        ("lint", "passed", "0.2s", ""),
        ("push", "skipped", "-", "needs a container registry"),
    ]


def test_pipeline_list_shows_every_pipeline_and_step() -> None:
    result = CliRunner().invoke(build_app(), ["pipeline", "list"])
    assert result.exit_code == 0
    for pipeline in PIPELINES.values():
        assert pipeline.name in result.output
    assert "wait-for-sync" in result.output


def test_an_unknown_pipeline_or_a_missing_function_is_bad_input(tmp_path: Path) -> None:
    app = build_app()
    unknown = CliRunner().invoke(app, ["pipeline", "run", "nightly"])
    assert isinstance(unknown.exception, InvalidInputError)
    assert "unknown pipeline 'nightly'" in str(unknown.exception)
    missing = CliRunner().invoke(app, ["pipeline", "run", "function-ci", "--root", str(tmp_path)])
    assert isinstance(missing.exception, InvalidInputError)
    assert "needs --function" in str(missing.exception)
    absent = CliRunner().invoke(app, ["pipeline", "run", "function-ci", "-f", "nope"])
    assert isinstance(absent.exception, NotFoundError)
