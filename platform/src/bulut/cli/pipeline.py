"""`bulut pipeline`: list the CI/CD pipelines and run them locally, before pushing.

``bulut pipeline run function-ci --function inventory`` walks the same steps as the
``function-ci`` WorkflowTemplate (:mod:`bulut.workflows.steps`), in DAG order, running
what can run on this machine (lint, unit tests, render check, validate, a local revision
build, a trivy scan when trivy is installed) and reporting the rest as skipped with the
reason (:mod:`bulut.workflows.runner`). The run exits 1 naming the failed steps.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from bulut.errors import InvalidInputError
from bulut.workflows import PIPELINES
from bulut.workflows.runner import Status, StepResult, function_values, run_pipeline

from .groups import command_group
from .output import console, err_console, print_table

OUTPUT_TAIL = 40


def _print_result(result: StepResult) -> None:
    marks = {Status.passed: "[green]✓[/]", Status.failed: "[red]✗[/]", Status.skipped: "[dim]-[/]"}
    detail = f"{result.duration:.1f}s" if result.status is not Status.skipped else result.reason
    err_console().print(f"{marks[result.status]} {result.name} [dim]{detail}[/]")
    if result.status is Status.failed:
        tail = result.output.rstrip().splitlines()[-OUTPUT_TAIL:]
        err_console().print("\n".join(f"    {line}" for line in tail), markup=False)


def summary_rows(results: Sequence[StepResult]) -> list[tuple[str, str, str, str]]:
    """(step, status, duration, reason) per step."""
    return [
        (
            r.name,
            r.status.value,
            f"{r.duration:.1f}s" if r.status is not Status.skipped else "-",
            r.reason,
        )
        for r in results
    ]


def group() -> typer.Typer:
    """`bulut pipeline ...`."""
    return command_group(
        "List the CI/CD pipelines; run them locally.", {"list": list_pipelines, "run": run}
    )


def list_pipelines() -> None:
    """Show each pipeline and its steps in DAG order."""
    rows = []
    for pipeline in PIPELINES.values():
        for step in pipeline.steps:
            local = "runs" if step.command is not None else f"skipped: {step.local_skip}"
            rows.append((pipeline.name, step.name, ", ".join(step.depends) or "-", local))
    print_table(["PIPELINE", "STEP", "AFTER", "LOCALLY"], rows)


def run(
    name: Annotated[str, typer.Argument(help="function-ci, promote or dr-drill.")],
    function: Annotated[
        str | None, typer.Option("--function", "-f", help="A name under functions/, or a folder.")
    ] = None,
    root: Annotated[Path, typer.Option(help="The repository root.")] = Path("."),
) -> None:
    """Run a pipeline's steps here, in DAG order; exit 1 naming the failed steps."""
    pipeline = PIPELINES.get(name)
    if pipeline is None:
        raise InvalidInputError(f"unknown pipeline {name!r}: choose one of {', '.join(PIPELINES)}")
    if pipeline.needs_function and not function:
        raise InvalidInputError(f"pipeline {name} needs --function NAME")
    values = function_values(function, root) if function else {}
    label = f"{name} ({values['function']})" if values else name
    err_console().print(f"[bold]pipeline {label}[/]: {len(pipeline.steps)} steps")
    started = time.monotonic()
    with err_console().status("") as status:
        results = run_pipeline(
            pipeline,
            values,
            root,
            on_start=lambda step: status.update(f"{step.name}: {step.summary}"),
            on_result=_print_result,
        )
    print_table(["STEP", "STATUS", "DURATION", "REASON"], summary_rows(results))
    failed = [r.name for r in results if r.status is Status.failed]
    counts = {s: sum(r.status is s for r in results) for s in Status}
    took = f"{time.monotonic() - started:.1f}s"
    tally = ", ".join(f"{n} {s.value}" for s, n in counts.items())
    if failed:
        err_console().print(f"[red]pipeline {label} failed at: {', '.join(failed)}[/] ({took})")
        raise typer.Exit(1)
    console().print(f"pipeline {label} passed: {tally} in {took}")
