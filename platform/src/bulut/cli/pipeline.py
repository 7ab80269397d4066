"""`bulut pipeline`: list the CI/CD pipelines and run them locally, before pushing.

``bulut pipeline run function-ci --function inventory`` walks the same steps as the
``function-ci`` WorkflowTemplate (:mod:`bulut.cli.pipeline_steps`), in DAG order, running
what can run on this machine (lint, unit tests, render check, validate, a local revision
build, a trivy scan when trivy is installed) and reporting the rest as skipped with the
reason. A failed step skips everything that depends on it; independent steps still run.
The run exits 1 naming the failed steps.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bulut.errors import InvalidInputError, NotFoundError

from .output import console, err_console, print_table
from .pipeline_steps import PIPELINES, Pipeline, Step

OUTPUT_TAIL = 40


class Status(StrEnum):
    """How a step ended."""

    passed = "passed"
    failed = "failed"
    skipped = "skipped"


@dataclass(frozen=True)
class StepResult:
    """One row of the summary."""

    name: str
    status: Status
    duration: float = 0.0
    reason: str = ""
    output: str = ""


@dataclass(frozen=True)
class Outcome:
    """What running one command gave."""

    returncode: int
    output: str


Executor = Callable[[Step, list[str], Path], Outcome]
ToolFinder = Callable[[str], list[str] | None]


def find_tool(name: str) -> list[str] | None:
    """argv prefix of a tool: beside this Python (the venv) first, then PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which(name)
    if found:
        return [found]
    if name == "bulut":
        return [sys.executable, "-m", "bulut.cli.main"]
    return None


def run_command(step: Step, argv: list[str], cwd: Path) -> Outcome:
    """Run one command, output captured (stderr folded into stdout)."""
    completed = subprocess.run(
        argv,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    return Outcome(completed.returncode, completed.stdout)


def skip_reason(step: Step, results: dict[str, StepResult], tools: ToolFinder) -> str | None:
    """Why a step cannot run now, or None when it should run."""
    blocked = [
        name
        for name in step.depends
        if results[name].status is Status.failed
        or (results[name].status is Status.skipped and results[name].reason.endswith(" failed"))
    ]
    if step.on_failure:
        if not any(results[name].status is Status.failed for name in step.depends):
            return f"{' and '.join(step.depends)} did not fail"
    elif blocked:
        first = blocked[0]
        cause = first if results[first].status is Status.failed else results[first].reason
        return cause if cause.endswith(" failed") else f"{cause} failed"
    if step.command is None:
        return step.local_skip
    tool = step.requires or step.command[0]
    if tools(tool) is None:
        return f"{tool} is not installed"
    return None


def run_pipeline(
    pipeline: Pipeline,
    values: dict[str, str],
    root: Path,
    *,
    execute: Executor = run_command,
    tools: ToolFinder = find_tool,
    on_start: Callable[[Step], None] = lambda step: None,
    on_result: Callable[[StepResult], None] = lambda result: None,
) -> list[StepResult]:
    """Every step in DAG order; skipped ones carry their reason."""
    results: dict[str, StepResult] = {}
    for step in pipeline.steps:
        reason = skip_reason(step, results, tools)
        if reason is not None:
            result = StepResult(step.name, Status.skipped, reason=reason)
        else:
            argv = step.argv(values)
            prefix = tools(argv[0]) or [argv[0]]
            on_start(step)
            started = time.monotonic()
            outcome = execute(step, [*prefix, *argv[1:]], root / step.cwd.format_map(values))
            elapsed = time.monotonic() - started
            status = Status.passed if outcome.returncode == 0 else Status.failed
            why = "" if status is Status.passed else f"exit code {outcome.returncode}"
            result = StepResult(step.name, status, elapsed, why, outcome.output)
        results[step.name] = result
        on_result(result)
    return list(results.values())


def function_values(function: str, root: Path) -> dict[str, str]:
    """Placeholders for a function given by name (under functions/) or by folder."""
    candidate = Path(function)
    folder = (
        candidate if candidate.is_dir() and os.sep in function else root / "functions" / function
    )
    if not folder.is_dir():
        raise NotFoundError(f"function {function!r}: no folder {folder}")
    folder = folder.resolve()
    try:
        relative = str(folder.relative_to(root.resolve()))
    except ValueError:
        relative = str(folder)
    return {"function": folder.name, "function_dir": relative}


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


def register(app: typer.Typer) -> None:
    """Attach the `pipeline` group to the root app."""
    group = typer.Typer(
        name="pipeline", help="List the CI/CD pipelines; run them locally.", no_args_is_help=True
    )
    group.command("list")(list_pipelines)
    group.command("run")(run)
    app.add_typer(group, name="pipeline")


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
