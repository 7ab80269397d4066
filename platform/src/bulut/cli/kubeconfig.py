"""`bulut kubeconfig`: write (or merge) the kubeconfig context `bulut` for the platform.

kubectl, k9s, the Kubernetes clients and every `bulut` command then find the platform
without flags; `bulut up` does the same when it starts. The logic is in bulut.kubeconfig.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bulut.kubeconfig import CONTEXT, platform_of, render, write_for
from bulut.settings import Settings

from .output import console


def kubeconfig(
    host: Annotated[
        str | None, typer.Option(help="Address the platform binds [BULUT_HOST].")
    ] = None,
    control_port: Annotated[
        int | None, typer.Option(help="Control plane port [BULUT_CONTROL_PORT].")
    ] = None,
    data_port: Annotated[
        int | None, typer.Option(help="Data plane port [BULUT_DATA_PORT].")
    ] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option(help="State directory: its controlplane/token and ca.crt [BULUT_STATE_DIR]."),
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option("-n", "--namespace", help="The context's namespace (default: kept)."),
    ] = None,
    switch: Annotated[
        bool, typer.Option("--switch/--no-switch", help="Make it the current context.")
    ] = True,
    show: Annotated[
        bool, typer.Option("--print", help="Print the kubeconfig instead of writing it.")
    ] = False,
) -> None:
    """Write the kubeconfig context `bulut` (into $KUBECONFIG or ~/.kube/config)."""
    overrides: dict[str, Any] = {
        "host": host,
        "control_port": control_port,
        "data_port": data_port,
        "state_dir": state_dir,
    }
    settings = Settings(**{key: value for key, value in overrides.items() if value is not None})
    if show:
        print(render(platform_of(settings, namespace)), end="")
        return
    path, platform = write_for(settings, namespace, switch=switch)
    current = "; it is the current context" if switch else ""
    console().print(
        f'context "{CONTEXT}" written to {path}{current}\n'
        f"  server      {platform.server}\n"
        f"  data plane  {platform.data_url}\n"
        f"  namespace   {platform.namespace}"
    )


def register(app: typer.Typer) -> None:
    """Attach `bulut kubeconfig`."""
    app.command()(kubeconfig)
