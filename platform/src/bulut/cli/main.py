"""Entry point of the `bulut` console script.

Each command is a module-level function in the module of its group; this module only
attaches them (the tables below) and builds the invocation's Settings once, in the root
callback (see :mod:`bulut.cli.invocation`). The tables name modules, not objects: a command's
module is imported, and its Typer tree converted to Click, only when that command runs (or
help lists it), so `bulut get` pays for `get` alone, not for every group's imports. Any
:class:`~bulut.errors.BulutError` escaping a command becomes one line on stderr and exit
code 2 (bad input) or 1 (everything else).
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable, Iterator, MutableMapping
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from bulut import __version__
from bulut.errors import BulutError, ConfigError, InvalidInputError, NotFoundError
from bulut.kubeconfig import resolve

from .invocation import load_settings, settings_of

HELP = "Run Knative-style Python functions locally; ship them to Knative with GitOps."

# (name, "module:function") of the commands, and (name, "module:factory") of the groups,
# modules relative to bulut.cli; in the order `bulut --help` lists them.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("up", "up:up"),
    ("kubeconfig", "kubeconfig:kubeconfig"),
    ("apply", "resources:apply"),
    ("get", "resources:get"),
    ("describe", "resources:describe_resource"),
    ("delete", "resources:delete"),
    ("render", "render:render"),
    ("validate", "render:validate"),
    ("trace", "telemetry:trace"),
    ("logs", "telemetry:logs"),
)
GROUPS: tuple[tuple[str, str], ...] = (
    ("func", "func:group"),
    ("service", "service:group"),
    ("broker", "eventing:broker_group"),
    ("trigger", "eventing:trigger_group"),
    ("source", "sources:source_group"),
    ("domain", "domains:group"),
    ("jobsink", "jobsinks:group"),
    ("channel", "messaging:channel_group"),
    ("subscription", "messaging:subscription_group"),
    ("sequence", "messaging:sequence_group"),
    ("parallel", "messaging:parallel_group"),
    ("eventtype", "messaging:eventtype_group"),
    ("events", "events:group"),
    ("secrets", "secrets:group"),
    ("dr", "dr:group"),
    ("pipeline", "pipeline:group"),
    ("gitops", "gitops:group"),
)


def _attribute(where: str) -> Any:
    module, attribute = where.split(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), attribute)


def load_command(name: str, where: str) -> Any:
    """The Click command of the function at ``where`` (typer vendors click: typed Any)."""
    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    single.command(name)(_attribute(where))
    return typer.main.get_command(single)


def load_group(name: str, where: str) -> Any:
    """The Click group the Typer factory at ``where`` builds, named ``name``."""
    group = typer.main.get_group(_attribute(where)())
    group.name = name
    return group


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands, each loaded on first access: listing names loads nothing."""

    def __init__(self, loaded: dict[str, Any], loaders: dict[str, Callable[[], Any]]) -> None:
        self._entries: dict[str, Any] = {**loaded}
        self._loaders = loaders
        for name in loaders:
            self._entries.setdefault(name, None)

    def __getitem__(self, name: str) -> Any:
        command = self._entries[name]
        if command is None:
            command = self._entries[name] = self._loaders[name]()
        return command

    def __setitem__(self, name: str, command: Any) -> None:
        self._entries[name] = command

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def _loaders() -> dict[str, Callable[[], Any]]:
    loaders: dict[str, Callable[[], Any]] = {}
    for name, where in COMMANDS:
        loaders[name] = functools.partial(load_command, name, where)
    for name, where in GROUPS:
        loaders[name] = functools.partial(load_group, name, where)
    return loaders


# Commands that say where a platform runs instead of looking for one.
WITHOUT_CONTEXT = frozenset({"up", "kubeconfig"})


class ContextOptionsGroup(TyperGroup):
    """The root group: ``--context``/``--server`` are accepted anywhere before ``--``
    (``bulut get ksvc --context bulut``, like kubectl's global flags), and the commands of
    the tables are loaded when first asked for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands(dict(self.commands), _loaders())

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
