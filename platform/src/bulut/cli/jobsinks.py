"""`bulut jobsink create|describe|list|delete`: a JobSink runs a Job per event it receives.

kn has no JobSink command; these follow kn's shape. ``--image`` names the job's image, or
``--function PATH`` a local function folder (the image is its func.yaml name and the pod
template's ``bulut.dev/function-path`` annotation points at the folder). Other commands
send events to it with ``--sink jobsink:NAME``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bulut.manifests.kn_sources import (
    SINKS,
    ContainerFlags,
    jobsink_spec,
)

from .eventing import create_resource, delete_item, describe_item, list_kn_rows
from .groups import command_group
from .resources import Namespace
from .sources import Args, Env, Function, Image

BackoffLimit = Annotated[
    int | None,
    typer.Option("--backoff-limit", help="Failed runs retried before the Job fails (default 6)."),
]


def group() -> typer.Typer:
    """`bulut jobsink ...`."""
    return command_group(
        "JobSinks: each event runs a Job (sinks.knative.dev).",
        {
            "create": create_jobsink,
            "list": (list_kn_rows, "List JobSinks: Name, URL, Age, Conditions, Ready, Reason."),
            "describe": (describe_item, "Show a JobSink: address, runs, conditions."),
            "delete": (delete_item, "Delete a JobSink."),
        },
    )


def create_jobsink(
    ctx: typer.Context,
    name: str,
    image: Image = None,
    function: Function = None,
    env: Env = [],  # noqa: B006
    args: Args = [],  # noqa: B006
    backoff_limit: BackoffLimit = None,
    namespace: Namespace = None,
) -> None:
    """Create a JobSink whose Job runs the image (or local function folder) once per event."""
    spec = jobsink_spec(name, ContainerFlags(image, function, env, args), backoff_limit)
    create_resource(ctx, SINKS, "JobSink", name, spec)
