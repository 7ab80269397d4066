"""The local pipeline runner: DAG order, skip reasons, failures blocking their dependents."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.workflows import FUNCTION_CI, PROMOTE, Pipeline, Step
from bulut.workflows.runner import Outcome, Status, StepResult, run_pipeline

VALUES = {"function": "inventory", "function_dir": "functions/inventory"}


def every_tool(name: str) -> list[str]:
    return [name]


def no_trivy(name: str) -> list[str] | None:
    return None if name == "trivy" else [name]


class Recorder:
    """An executor that records what ran and fails the steps it is told to."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.failing = failing
        self.ran: list[tuple[str, list[str], Path]] = []

    def __call__(self, step: Step, argv: list[str], cwd: Path) -> Outcome:
        self.ran.append((step.name, argv, cwd))
        return Outcome(1 if step.name in self.failing else 0, f"{step.name} output\n")


def statuses(results: list[StepResult]) -> dict[str, tuple[Status, str]]:
    return {r.name: (r.status, r.reason) for r in results}


def test_steps_run_in_dag_order_with_their_placeholders_filled() -> None:
    recorder = Recorder()
    run_pipeline(FUNCTION_CI, VALUES, Path("/repo"), execute=recorder, tools=every_tool)
    names = [name for name, _, _ in recorder.ran]
    assert names == ["lint", "unit-test", "render-check", "validate", "build", "scan"]
    lint, unit_test = recorder.ran[0], recorder.ran[1]
    assert lint[2] == Path("/repo/functions/inventory") and lint[1][:2] == ["ruff", "check"]
    assert unit_test[1] == ["bulut", "func", "test", "functions/inventory"]


def test_cluster_only_steps_are_skipped_with_their_reason() -> None:
    results = run_pipeline(FUNCTION_CI, VALUES, Path("."), execute=Recorder(), tools=no_trivy)
    found = statuses(results)
    assert found["checkout"] == (Status.skipped, "the local run uses the working tree")
    assert found["scan"] == (Status.skipped, "trivy is not installed")
    assert found["push"] == (Status.skipped, "needs a container registry")
    assert found["build"][0] is Status.passed


def test_a_failed_step_skips_its_dependents_and_independent_steps_still_run() -> None:
    pipeline = Pipeline(
        "demo",
        "demo",
        (
            Step("checkout", "c", command=("true",)),
            Step("unit-test", "u", depends=("checkout",), command=("true",)),
            Step("render-check", "r", depends=("checkout",), command=("true",)),
            Step("build", "b", depends=("unit-test", "render-check"), command=("true",)),
        ),
    )
    results = run_pipeline(
        pipeline, {}, Path("."), execute=Recorder(failing=("unit-test",)), tools=every_tool
    )
    found = statuses(results)
    assert found["unit-test"] == (Status.failed, "exit code 1")
    assert found["render-check"][0] is Status.passed
    assert found["build"] == (Status.skipped, "unit-test failed")
    assert results[1].output == "unit-test output\n"


def test_function_ci_checks_one_after_the_other_on_its_one_workspace() -> None:
    recorder = Recorder(failing=("unit-test",))
    found = statuses(
        run_pipeline(FUNCTION_CI, VALUES, Path("."), execute=recorder, tools=every_tool)
    )
    assert found["lint"][0] is Status.passed
    assert found["unit-test"] == (Status.failed, "exit code 1")
    for later in ("render-check", "validate", "build", "scan"):
        assert found[later] == (Status.skipped, "unit-test failed")


def test_a_rollback_runs_only_when_its_dependency_failed() -> None:
    pipeline = Pipeline(
        "demo",
        "demo",
        (
            Step("smoke-test", "s", command=("true",)),
            Step("rollback", "r", depends=("smoke-test",), command=("true",), on_failure=True),
        ),
    )
    passed = statuses(run_pipeline(pipeline, {}, Path("."), execute=Recorder(), tools=every_tool))
    assert passed["rollback"] == (Status.skipped, "smoke-test did not fail")
    failed = run_pipeline(
        pipeline, {}, Path("."), execute=Recorder(failing=("smoke-test",)), tools=every_tool
    )
    assert statuses(failed)["rollback"][0] is Status.passed


def test_promote_runs_nothing_locally() -> None:
    recorder = Recorder()
    results = run_pipeline(PROMOTE, VALUES, Path("."), execute=recorder, tools=every_tool)
    assert recorder.ran == []
    assert {r.status for r in results} == {Status.skipped}


def test_a_catalog_with_an_unknown_dependency_is_refused() -> None:
    with pytest.raises(ValueError, match="depends on lint, which is not defined before it"):
        Pipeline("bad", "bad", (Step("build", "b", depends=("lint",), command=("true",)),))


def test_a_step_without_a_local_command_must_say_why() -> None:
    with pytest.raises(ValueError, match="say why"):
        Step("push", "p")
