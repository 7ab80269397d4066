"""Entry point of the `bulut` console script.

Each command is a module-level function in the module of its group; this module only
attaches them (the table below) and builds the invocation's Settings once, in the root
callback (see :mod:`bulut.cli.invocation`). Any :class:`~bulut.errors.BulutError` escaping
a command becomes one line on stderr and exit code 2 (bad input) or 1 (everything else).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer

from bulut import __version__
from bulut.errors import BulutError, ConfigError, InvalidInputError, NotFoundError

from . import (
    dr,
    eventing,
    events,
    func,
    gitops,
    kubeconfig,
    pipeline,
    render,
    resources,
    secrets,
    service,
    telemetry,
    up,
)
from .invocation import load_settings

HELP = "Run Knative-style Python functions locally; ship them to Knative with GitOps."

COMMANDS: tuple[tuple[str, Callable[..., Any]], ...] = (
    ("up", up.up),
    ("kubeconfig", kubeconfig.kubeconfig),
    ("apply", resources.apply),
    ("get", resources.get),
    ("describe", resources.describe_resource),
    ("delete", resources.delete),
    ("render", render.render),
    ("validate", render.validate),
    ("trace", telemetry.trace),
    ("logs", telemetry.logs),
)
GROUPS: tuple[tuple[str, Callable[[], typer.Typer]], ...] = (
    ("func", func.group),
    ("service", service.group),
    ("broker", eventing.broker_group),
    ("trigger", eventing.trigger_group),
    ("source", eventing.source_group),
    ("events", events.group),
    ("secrets", secrets.group),
    ("dr", dr.group),
    ("pipeline", pipeline.group),
    ("gitops", gitops.group),
)


def root(ctx: typer.Context) -> None:
    """Run Knative-style Python functions locally; ship them to Knative with GitOps."""
    ctx.obj = load_settings()


def version() -> None:
    """Print the Bulut version."""
    print(__version__)


def build_app() -> typer.Typer:
    """Assemble the command tree."""
    app = typer.Typer(
        name="bulut",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(root)
    app.command()(version)
    for name, command in COMMANDS:
        app.command(name)(command)
    for name, group in GROUPS:
        app.add_typer(group(), name=name)
    return app


def exit_code_for(error: BulutError) -> int:
    """Bad input (what the user can fix) exits 2; failures of the platform exit 1."""
    if isinstance(error, InvalidInputError | NotFoundError | ConfigError):
        return 2
    return 2 if error.http_status < 500 else 1


def run() -> None:
    """Console-script entry point."""
    app = build_app()
    try:
        app()
    except BulutError as error:
        sys.stderr.write(f"error: {error}\n")
        raise SystemExit(exit_code_for(error)) from None


if __name__ == "__main__":
    run()
