"""`bulut source ping|apiserver|container ...`, modelled on kn's source commands.

The documents and the list rows come from :mod:`bulut.manifests.kn_sources`; this module
parses, calls the control plane and prints. ``update`` reads the stored source, applies the
flags given and writes it back (kn's update).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bulut.manifests.kn_messaging import SINK_HELP
from bulut.manifests.kn_sources import (
    SOURCES,
    ApiServerFlags,
    ContainerFlags,
    apiserver_spec,
    container_spec,
)

from .eventing import (
    create_resource,
    delete_item,
    describe_item,
    list_kn_rows,
    ping_group,
    update_resource,
)
from .groups import command_group
from .invocation import settings_of
from .resources import ControlPlaneClient, Namespace

SinkOption = Annotated[
    str | None, typer.Option("--sink", "-s", help=f"Where events go: {SINK_HELP}.")
]
Resources = Annotated[
    list[str],
    typer.Option(
        "--resource",
        help="Kind:APIVersion[:key=value,...] to watch, e.g. Event:v1 (repeatable).",
    ),
]
Mode = Annotated[
    str | None,
    typer.Option("--mode", help="Reference (the object's reference) or Resource (the object)."),
]
ServiceAccount = Annotated[
    str | None, typer.Option("--service-account", help="The ServiceAccount the watch runs as.")
]
Overrides = Annotated[
    list[str],
    typer.Option("--ce-override", help="CloudEvent extension key=value (key- removes it)."),
]
Image = Annotated[str | None, typer.Option("--image", help="The container image.")]
Function = Annotated[
    Path | None,
    typer.Option("--function", "-f", help="A local function folder instead of an image."),
]
Env = Annotated[list[str], typer.Option("--env", "-e", help="NAME=value (NAME- removes it).")]
Args = Annotated[list[str], typer.Option("--arg", help="An argument of the program (repeatable).")]


def source_group() -> typer.Typer:
    """`bulut source ...` (kn source)."""
    return command_group(
        "Event sources (kn source).",
        {},
        ping=ping_group(),
        apiserver=apiserver_group(),
        container=container_group(),
    )


def apiserver_group() -> typer.Typer:
    """`bulut source apiserver ...` (kn source apiserver)."""
    return command_group(
        "ApiServerSources: API changes as events (kn source apiserver).",
        {
            "create": create_apiserver,
            "update": update_apiserver,
            "list": (
                list_kn_rows,
                "List ApiServerSources: Name, Resources, Sink, Age, Conditions, Ready, Reason.",
            ),
            "describe": (describe_item, "Show an ApiServerSource: resources, sink, conditions."),
            "delete": (delete_item, "Delete an ApiServerSource."),
        },
    )


def container_group() -> typer.Typer:
    """`bulut source container ...` (kn source container)."""
    return command_group(
        "ContainerSources: a program that posts events to its sink (kn source container).",
        {
            "create": create_container,
            "update": update_container,
            "list": (
                list_kn_rows,
                "List ContainerSources: Name, Image, Sink, Age, Conditions, Ready, Reason.",
            ),
            "describe": (describe_item, "Show a ContainerSource: image, sink, conditions."),
            "delete": (delete_item, "Delete a ContainerSource (its program stops)."),
        },
    )


def create_apiserver(
    ctx: typer.Context,
    name: str,
    resources: Resources = [],  # noqa: B006
    sink: SinkOption = None,
    mode: Mode = None,
    service_account: ServiceAccount = None,
    ce_overrides: Overrides = [],  # noqa: B006
    namespace: Namespace = None,
) -> None:
    """Create an ApiServerSource (mode Reference unless --mode Resource)."""
    flags = ApiServerFlags(resources, mode, service_account, sink, ce_overrides)
    spec = apiserver_spec(flags)
    create_resource(ctx, SOURCES, "ApiServerSource", name, spec, label="ApiServer source")


def update_apiserver(
    ctx: typer.Context,
    name: str,
    resources: Resources = [],  # noqa: B006
    sink: SinkOption = None,
    mode: Mode = None,
    service_account: ServiceAccount = None,
    ce_overrides: Overrides = [],  # noqa: B006
    namespace: Namespace = None,
) -> None:
    """Update an ApiServerSource: the flags given replace what they name."""
    client = ControlPlaneClient(settings_of(ctx))
    flags = ApiServerFlags(resources, mode, service_account, sink, ce_overrides)
    update_resource(
        client,
        "apiserversource",
        name,
        lambda spec: apiserver_spec(flags, spec),
        "ApiServer source",
    )


def create_container(
    ctx: typer.Context,
    name: str,
    sink: SinkOption = None,
    image: Image = None,
    function: Function = None,
    env: Env = [],  # noqa: B006
    args: Args = [],  # noqa: B006
    ce_overrides: Overrides = [],  # noqa: B006
    namespace: Namespace = None,
) -> None:
    """Create a ContainerSource: its program runs with K_SINK (and K_CE_OVERRIDES) set."""
    spec = container_spec(name, ContainerFlags(image, function, env, args), sink, ce_overrides)
    create_resource(ctx, SOURCES, "ContainerSource", name, spec, label="Container source")


def update_container(
    ctx: typer.Context,
    name: str,
    sink: SinkOption = None,
    image: Image = None,
    function: Function = None,
    env: Env = [],  # noqa: B006
    args: Args = [],  # noqa: B006
    ce_overrides: Overrides = [],  # noqa: B006
    namespace: Namespace = None,
) -> None:
    """Update a ContainerSource: the flags given replace what they name."""
    client = ControlPlaneClient(settings_of(ctx))
    flags = ContainerFlags(image, function, env, args)
    update_resource(
        client,
        "containersource",
        name,
        lambda spec: container_spec(name, flags, sink, ce_overrides, spec),
        "Container source",
    )
