"""Command groups from tables of module-level commands (no closures, nothing at import)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import typer

Command = Callable[..., Any]


def command_group(
    help: str,  # noqa: A002
    commands: Mapping[str, Command | tuple[Command, str]],
    **subgroups: typer.Typer,
) -> typer.Typer:
    """A typer group: each name runs its command (with its own help when a pair is given)."""
    group = typer.Typer(help=help, no_args_is_help=True)
    for name, entry in commands.items():
        command, text = entry if isinstance(entry, tuple) else (entry, None)
        group.command(name, help=text)(command)
    for name, subgroup in subgroups.items():
        group.add_typer(subgroup, name=name)
    return group
