"""Entry point of the `bulut` console script.

Commands live in one module each and attach themselves with ``register(app)``.
Any :class:`~bulut.errors.BulutError` escaping a command becomes one line on stderr
and exit code 2 (bad input) or 1 (everything else).
"""

from __future__ import annotations

import sys

import typer

from bulut import __version__
from bulut.errors import BulutError, ConfigError, InvalidInputError, NotFoundError

from . import (
    dr,
    eventing,
    events,
    func,
    func_loop,
    func_run,
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

_MODULES = (
    up,
    func,
    func_run,
    kubeconfig,
    func_loop,
    gitops,
    resources,
    service,
    eventing,
    events,
    render,
    secrets,
    dr,
    pipeline,
    telemetry,
)


def build_app() -> typer.Typer:
    """Assemble the command tree."""
    app = typer.Typer(
        name="bulut",
        help="Run Knative-style Python functions locally; ship them to Knative with GitOps.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def root() -> None:
        """Run Knative-style Python functions locally; ship them to Knative with GitOps."""

    @app.command()
    def version() -> None:
        """Print the Bulut version."""
        print(__version__)

    for module in _MODULES:
        module.register(app)
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
