"""`bulut kubeconfig`: write (or merge) the kubeconfig context `bulut` for the platform.

kubectl, k9s, the Kubernetes clients and every `bulut` command then find the platform
without flags; `bulut up` does the same when it starts. The logic is in bulut.kubeconfig.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bulut.kubeconfig import CONTEXT, platform_of, render, write_for

from .invocation import setting, settings_of
from .output import console


def kubeconfig(
    ctx: typer.Context,
    host: Annotated[str | None, setting("host", help="Address the platform binds.")] = None,
    control_port: Annotated[int | None, setting("control_port")] = None,
    data_port: Annotated[int | None, setting("data_port")] = None,
    state_dir: Annotated[
        Path | None,
        setting("state_dir", help="State directory: its controlplane/token and ca.crt."),
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
    settings = settings_of(ctx)
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
