"""Running a pipeline's steps here, in DAG order (what ``bulut pipeline run`` calls).

A failed step skips everything that depends on it; independent steps still run. A step
without a local command, or whose tool is missing, is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from bulut.errors import NotFoundError

from .steps import Pipeline, Step


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
