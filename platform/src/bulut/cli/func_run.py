"""`bulut func run DIR`: serve one function locally, as `kn func run` does.

The function runs in its own environment (func-python for kn func projects,
functions-framework for GFF) with PORT, LISTEN_ADDRESS and K_* set, behind the data
plane's front, which validates CloudEvents (400 problem+json naming the attribute)
before they reach the function. Ctrl-C stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

from bulut.functions.project import load_project
from bulut.serving.local import serve_function
from bulut.serving.resources import readiness_path
from bulut.serving.zygote import Workload

from .func import BuildsDirOption, DirArgument, built_environment
from .invocation import settings_of
from .output import err_console


def run(
    ctx: typer.Context,
    folder: DirArgument,
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8080,
    host: Annotated[str, typer.Option("--host", help="Loopback address to bind.")] = "127.0.0.1",
    builds_dir: BuildsDirOption = None,
) -> None:
    """Serve the function at FOLDER on --host:--port until Ctrl-C."""
    project = load_project(folder)
    console = err_console()
    environment = built_environment(project, settings_of(ctx))
    # No container spec here: the default probe for the flavour, as on a cluster.
    probe = readiness_path({}, project.flavour.is_kn_func)
    workload = Workload.of(project, environment, readiness_path=probe)
    serving = serve_function(
        workload,
        name=project.name,
        host=host,
        port=port,
        cwd=project.path,
        started=lambda url: console.print(f"function {project.name} running at {url}"),
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serving)
