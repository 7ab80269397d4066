"""Entry point of the `bulut` console script.

Each command is a module-level function in the module of its group; this module only
attaches them (the table below) and builds the invocation's Settings once, in the root
callback (see :mod:`bulut.cli.invocation`). Any :class:`~bulut.errors.BulutError` escaping
a command becomes one line on stderr and exit code 2 (bad input) or 1 (everything else).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from bulut import __version__
from bulut.errors import BulutError, ConfigError, InvalidInputError, NotFoundError
from bulut.kubeconfig import resolve

from . import (
    dr,
    eventing,
    events,
    func,
    gitops,
    kubeconfig,
    messaging,
    pipeline,
    render,
    resources,
    secrets,
    service,
    telemetry,
    up,
)
from .invocation import load_settings, settings_of

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
    ("channel", messaging.channel_group),
    ("subscription", messaging.subscription_group),
    ("sequence", messaging.sequence_group),
    ("parallel", messaging.parallel_group),
    ("eventtype", messaging.eventtype_group),
    ("events", events.group),
    ("secrets", secrets.group),
    ("dr", dr.group),
    ("pipeline", pipeline.group),
    ("gitops", gitops.group),
)


# Commands that say where a platform runs instead of looking for one.
WITHOUT_CONTEXT = frozenset({"up", "kubeconfig"})


class ContextOptionsGroup(TyperGroup):
    """The root group: ``--context``/``--server`` are accepted anywhere before ``--``
    (``bulut get ksvc --context bulut``, like kubectl's global flags)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer vendors click
        return super().parse_args(ctx, hoist_global_options(args))


def hoist_global_options(args: list[str]) -> list[str]:
    """``args`` with every ``--context``/``--server`` (and its value) moved to the front."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest += args[index:]
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            if "=" in arg or index + 1 >= len(args):
                front.append(arg)
            else:
                front += [arg, args[index + 1]]
                index += 1
        else:
            rest.append(arg)
        index += 1
    return front + rest


GLOBAL_OPTIONS = frozenset({"--context", "--server"})


def root(
    ctx: typer.Context,
    context: Annotated[
        str | None,
        typer.Option(help="Kubeconfig context of the platform [BULUT_CONTEXT; the current one]."),
    ] = None,
    server: Annotated[
        str | None, typer.Option(help="Control plane URL (instead of a context's).")
    ] = None,
) -> None:
    """Run Knative-style Python functions locally; ship them to Knative with GitOps."""
    settings = load_settings()
    if ctx.invoked_subcommand not in WITHOUT_CONTEXT:
        settings = resolve(settings, context=context, server=server)
    ctx.obj = settings


def version(ctx: typer.Context) -> None:
    """Print the Bulut version, and the context and platform commands use."""
    settings = settings_of(ctx)
    print(f"bulut {__version__}")
    context = settings.context or "none (BULUT_* variables and defaults)"
    print(f"context:    {context}")
    print(f"server:     {settings.control_url}")
    print(f"data plane: {settings.data_url}")
    print(f"namespace:  {settings.namespace}")


def build_app() -> typer.Typer:
    """Assemble the command tree."""
    app = typer.Typer(
        cls=ContextOptionsGroup,
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
