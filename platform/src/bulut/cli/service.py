"""`bulut service create|update|delete|list|describe`, modelled on `kn service`.

A Service's container maps to a local function folder: `--function PATH` writes the
`bulut.dev/function-path` annotation (the image defaults to the func.yaml name), or
`--image NAME` lets the catalog find the function whose func.yaml has that name. The
documents are built by :mod:`bulut.manifests.kn`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bulut.controlplane.retry import retry_on_conflict
from bulut.errors import InvalidInputError
from bulut.manifests.kn import ServiceFlags, new_service, update_service

from .groups import command_group
from .invocation import settings_of
from .output import OutputFormat, console
from .resources import ControlPlaneClient, Namespace, Output, collection, print_listing, show

Function = Annotated[Path | None, typer.Option("--function", help="Local function folder.")]
Image = Annotated[str | None, typer.Option("--image", help="Image (matched to a function).")]
Env = Annotated[list[str], typer.Option("--env", "-e", help="NAME=value (NAME- removes).")]
ScaleMin = Annotated[int | None, typer.Option("--scale-min", help="min-scale annotation.")]
ScaleMax = Annotated[int | None, typer.Option("--scale-max", help="max-scale annotation.")]
Concurrency = Annotated[
    int | None, typer.Option("--concurrency-limit", help="containerConcurrency (hard limit).")
]
Traffic = Annotated[
    list[str], typer.Option("--traffic", help="REVISION|TAG|@latest=PERCENT (repeatable).")
]
Tag = Annotated[list[str], typer.Option("--tag", help="REVISION|@latest=TAG (repeatable).")]
Annotation = Annotated[list[str], typer.Option("--annotation", "-a", help="KEY=value.")]


CREATE_HELP = "Create a Service from a local function (--function) or an image (--image)."
UPDATE_HELP = "Update a Service: a new revision when the template changes, else traffic only."


def group() -> typer.Typer:
    """`bulut service ...`."""
    return command_group(
        "Knative Services (kn service).",
        {
            "create": (write, CREATE_HELP),
            "update": (write, UPDATE_HELP),
            "list": list_services,
            "describe": describe_service,
            "delete": delete,
        },
    )


def write(
    ctx: typer.Context,
    name: str,
    function: Function = None,
    image: Image = None,
    env: Env = [],  # noqa: B006
    scale_min: ScaleMin = None,
    scale_max: ScaleMax = None,
    concurrency_limit: Concurrency = None,
    traffic: Traffic = [],  # noqa: B006
    tag: Tag = [],  # noqa: B006
    annotation: Annotation = [],  # noqa: B006
    namespace: Namespace = None,
) -> None:
    """`service create` and `service update`: kn gives both the same flags."""
    flags = ServiceFlags(
        function, image, env, scale_min, scale_max, concurrency_limit, traffic, tag, annotation
    )
    client = ControlPlaneClient(settings_of(ctx))
    if ctx.info_name == "update":
        update(client, name, flags)
    else:
        create(client, name, flags)


def create(client: ControlPlaneClient, name: str, flags: ServiceFlags) -> None:
    """POST a new Service built from the flags."""
    if flags.function is None and flags.image is None:
        raise InvalidInputError("give --function PATH or --image NAME", field="--image")
    ns = client.namespace
    document = update_service(new_service(name, ns), flags)
    client.request("POST", collection("ksvc", ns), json=document)
    console().print(f"Service '{name}' created in namespace '{ns}'.")


def update(client: ControlPlaneClient, name: str, flags: ServiceFlags) -> None:
    """PUT the Service with the flags applied to what is stored."""
    path = f"{collection('ksvc', client.namespace)}/{name}"

    def attempt() -> Any:  # read again and re-apply the change: kn's conflict retry
        return client.request("PUT", path, json=update_service(client.request("GET", path), flags))

    retry_on_conflict(attempt)
    console().print(f"Service '{name}' updated.")


def list_services(
    ctx: typer.Context, namespace: Namespace = None, output: Output = OutputFormat.table
) -> None:
    """List Services."""
    client = ControlPlaneClient(settings_of(ctx))
    print_listing(client, "ksvc", client.namespace, output)


def describe_service(
    ctx: typer.Context, name: str, namespace: Namespace = None, output: Output = OutputFormat.table
) -> None:
    """Show a Service: URL, revisions, traffic and conditions."""
    show(ControlPlaneClient(settings_of(ctx)), "ksvc", name, output)


def delete(ctx: typer.Context, name: str, namespace: Namespace = None) -> None:
    """Delete a Service with its Configuration, Route and Revisions."""
    client = ControlPlaneClient(settings_of(ctx))
    client.request("DELETE", f"{collection('ksvc', client.namespace)}/{name}")
    console().print(f"Service '{name}' successfully deleted in namespace '{client.namespace}'.")
