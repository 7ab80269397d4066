"""The `bulut` command tree, converted to Click once per test process.

Typer converts the whole tree (every command's signature and type hints) each time an app is
invoked, about 0.3 s of CPU: a test that invokes the CLI calls :func:`invoke` on the one
converted tree instead. Click makes a fresh context per invocation, so no state is shared.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import cast

import click
import typer
from click.testing import CliRunner, Result

from bulut.cli.main import build_app


@functools.cache
def bulut_command() -> click.Command:
    """The root `bulut` command, converted once.

    Typer builds on its own vendored copy of Click; Click's runner only calls the command's
    ``main()`` inside its stream isolation, which both copies share the shape of.
    """
    return cast("click.Command", typer.main.get_command(build_app()))


def invoke(
    args: Sequence[str], *, env: Mapping[str, str | None] | None = None, stdin: str | None = None
) -> Result:
    """Run `bulut ARGS` in-process, as typer's CliRunner would, on the converted tree."""
    return CliRunner().invoke(bulut_command(), list(args), env=env, input=stdin)
