"""Containers as local programs: what a ContainerSource or a JobSink's Job runs (pure plan).

A container's image stands for a local folder (:func:`bulut.functions.catalog.
resolve_program`: the pod template's ``bulut.dev/function-path`` annotation, else the
function or folder named after the image). What runs there is the container's
``command`` + ``args``, as a kubelet runs them, with the folder as working directory
(``workingDir`` relative to it); ``python``/``python3`` is the interpreter Bulut runs on.
Without a command the folder's ``__main__.py`` runs. The environment is the container's
``env`` (literal ``value`` entries) over Bulut's own, plus what the platform injects
(``K_SINK``, ``K_CE_OVERRIDES``, ``K_EVENT_PATH``...).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulut.errors import NotFoundError
from bulut.functions.catalog import resolve_program

INTERPRETERS = frozenset({"python", "python3", f"python3.{sys.version_info.minor}"})


@dataclass(frozen=True)
class Program:
    """One container, planned: the command line, the folder it runs in, its environment."""

    name: str
    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str] = field(default_factory=dict)


def plan_program(
    container: Mapping[str, Any],
    annotations: Mapping[str, str],
    functions_dir: Path,
    injected: Mapping[str, str],
) -> Program:
    """The program for one container; NotFoundError (naming the field) when there is none."""
    folder = resolve_program(str(container.get("image") or ""), annotations, functions_dir)
    command = [str(part) for part in container.get("command") or []]
    args = [str(part) for part in container.get("args") or []]
    if not command:
        if not (folder / "__main__.py").is_file():
            raise NotFoundError(
                f"{folder} has no __main__.py and the container has no command: give it "
                "`command` (e.g. [python, main.py]) or add __main__.py",
                field="command",
            )
        command = [sys.executable, str(folder)]
    elif command[0] in INTERPRETERS:
        command[0] = sys.executable
    working = container.get("workingDir")
    cwd = folder / str(working).lstrip("/") if working else folder
    env = {
        str(item["name"]): str(item.get("value") or "")
        for item in container.get("env") or []
        if isinstance(item, Mapping) and item.get("name") and "valueFrom" not in item
    }
    env.update(injected)
    return Program(str(container.get("name") or ""), (*command, *args), cwd, env)
