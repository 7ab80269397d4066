"""`bulut channel|subscription|sequence|parallel|eventtype ...`, modelled on kn's commands.

The documents and the list rows come from :mod:`bulut.manifests.kn_messaging`; this module
parses, calls the control plane and prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from bulut.manifests.kn_messaging import (
    CHANNEL_TYPE_COLUMNS,
    EVENTTYPES,
    FLOWS,
    MESSAGING,
    SINK_HELP,
    channel_spec,
    channel_type_rows,
    eventtype_spec,
    parallel_spec,
    sequence_spec,
    subscription_spec,
    updated_subscription,
)

from .eventing import (
    create_resource,
    delete_item,
    describe_item,
    list_items,
    list_kn_rows,
)
from .groups import command_group
from .invocation import settings_of
from .output import OutputFormat, console, print_document, print_table
from .resources import ControlPlaneClient, Namespace, Output, collection

MESSAGING_GROUP = MESSAGING.partition("/")[0]
ChannelType = Annotated[
    str | None,
    typer.Option("--type", help="imc or Group:Version:Kind (default: default-ch-webhook's)."),
]
Reply = Annotated[str | None, typer.Option("--reply", help=f"Where replies go: {SINK_HELP}.")]


def _group(
    help: str,  # noqa: A002
    create: Callable[..., None],
    listing: Callable[..., None],
    kind: str,
    shows: str,
    owns: str = "",
    **more: Callable[..., None],
) -> typer.Typer:
    """create, list, describe and delete for one kind (kn's four verbs), and ``more``
    (``list_types`` is the command ``list-types``)."""
    return command_group(
        help,
        {
            "create": create,
            "list": (listing, f"List {kind}s."),
            "describe": (describe_item, f"Show a {kind}: {shows}."),
            "delete": (delete_item, f"Delete a {kind}{owns}."),
            **{verb.replace("_", "-"): command for verb, command in more.items()},
        },
    )


def channel_group() -> typer.Typer:
    """`bulut channel ...` (kn channel)."""
    return _group(
        "Channels (kn channel).",
        create_channel,
        list_kn_rows,
        "Channel",
        "address, backing channel, subscribers",
        " (and its backing channel)",
        list_types=list_channel_types,
    )


def subscription_group() -> typer.Typer:
    """`bulut subscription ...` (kn subscription)."""
    return _group(
        "Subscriptions (kn subscription).",
        create_subscription,
        list_kn_rows,
        "Subscription",
        "resolved URIs and conditions",
        update=update_subscription,
    )


def sequence_group() -> typer.Typer:
    """`bulut sequence ...`."""
    return _group(
        "Sequences (flows.knative.dev).",
        create_sequence,
        list_items,
        "Sequence",
        "address, channels, subscriptions",
        " (and its channels and subscriptions)",
    )


def parallel_group() -> typer.Typer:
    """`bulut parallel ...`."""
    return _group(
        "Parallels (flows.knative.dev).",
        create_parallel,
        list_items,
        "Parallel",
        "address, branches and conditions",
        " (and its channels and subscriptions)",
    )


def eventtype_group() -> typer.Typer:
    """`bulut eventtype ...` (kn eventtype)."""
    return _group(
        "Event types: the event catalogue (kn eventtype).",
        create_eventtype,
        list_kn_rows,
        "EventType",
        "attributes, reference, conditions",
    )


# -- create and update


def create_channel(
    ctx: typer.Context, name: str, channel_type: ChannelType = None, namespace: Namespace = None
) -> None:
    """Create a Channel (backed by an InMemoryChannel unless --type says otherwise)."""
    create_resource(ctx, MESSAGING, "Channel", name, channel_spec(channel_type))


_CHANNEL = typer.Option("--channel", help="NAME (a Channel), imc:NAME or Group:Version:Kind:NAME.")
_SINK = typer.Option("--sink", "-s", help=f"The subscriber: {SINK_HELP}.")
SinkReply = Annotated[
    str | None, typer.Option("--sink-reply", help="Where the subscriber's replies go.")
]
SinkDeadLetter = Annotated[str | None, typer.Option("--sink-dead-letter", help="Dead letter sink.")]


def create_subscription(
    ctx: typer.Context,
    name: str,
    channel: Annotated[str, _CHANNEL],
    sink: Annotated[str, _SINK],
    sink_reply: SinkReply = None,
    sink_dead_letter: SinkDeadLetter = None,
    namespace: Namespace = None,
) -> None:
    """Subscribe a sink to a channel."""
    spec = subscription_spec(channel, sink, sink_reply, sink_dead_letter)
    create_resource(ctx, MESSAGING, "Subscription", name, spec)


def update_subscription(
    ctx: typer.Context,
    name: str,
    channel: Annotated[str | None, _CHANNEL] = None,
    sink: Annotated[str | None, _SINK] = None,
    sink_reply: SinkReply = None,
    sink_dead_letter: SinkDeadLetter = None,
    namespace: Namespace = None,
) -> None:
    """Update a Subscription's subscriber, reply or dead letter sink (kn subscription update)."""
    client = ControlPlaneClient(settings_of(ctx))
    path = f"{collection('Subscription', client.namespace)}/{name}"
    current = client.request("GET", path)
    document = updated_subscription(
        current, channel=channel, subscriber=sink, reply=sink_reply, dead_letter=sink_dead_letter
    )
    client.request("PUT", path, json=document)
    console().print(f"Subscription '{name}' updated in namespace '{client.namespace}'.")


def create_sequence(
    ctx: typer.Context,
    name: str,
    steps: Annotated[list[str], typer.Option("--step", help=f"A step, in order: {SINK_HELP}.")],
    reply: Reply = None,
    channel_type: ChannelType = None,
    namespace: Namespace = None,
) -> None:
    """Create a Sequence: each step's reply goes to the next step, the last to --reply."""
    create_resource(ctx, FLOWS, "Sequence", name, sequence_spec(steps, reply, channel_type))


def create_parallel(
    ctx: typer.Context,
    name: str,
    branches: Annotated[
        list[str],
        typer.Option("--branch", help="SUBSCRIBER[,filter=SINK][,reply=SINK], once per branch."),
    ],
    reply: Reply = None,
    channel_type: ChannelType = None,
    namespace: Namespace = None,
) -> None:
    """Create a Parallel: every branch gets each event its filter passes."""
    create_resource(ctx, FLOWS, "Parallel", name, parallel_spec(branches, reply, channel_type))


def create_eventtype(
    ctx: typer.Context,
    name: str,
    event_type: Annotated[str, typer.Option("--type", "-t", help="The CloudEvent type.")],
    source: Annotated[str | None, typer.Option("--source", help="The CloudEvent source.")] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", "-r", help="broker:NAME, channel:NAME...")
    ] = None,
    broker: Annotated[str | None, typer.Option("--broker", "-b", help="A Broker name.")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    namespace: Namespace = None,
) -> None:
    """Create an EventType."""
    target = f"broker:{broker}" if broker else reference
    spec = eventtype_spec(event_type, source, target, description)
    create_resource(ctx, EVENTTYPES, "EventType", name, spec, label="Eventtype")


# -- list (kn's columns: eventing.list_kn_rows); describe and delete are bulut.cli.eventing's


def list_channel_types(ctx: typer.Context, output: Output = OutputFormat.table) -> None:
    """List the channel types the platform serves: Type, Name, Description (kn's columns)."""
    client = ControlPlaneClient(settings_of(ctx))
    group = client.request("GET", f"/apis/{MESSAGING_GROUP}")
    rows: list[list[str]] = []
    for version in group.get("versions") or ():
        found = client.request("GET", f"/apis/{version['groupVersion']}")
        rows += channel_type_rows(MESSAGING_GROUP, found.get("resources") or [])
    if output is not OutputFormat.table:
        types = [dict(zip(("type", "name", "description"), row, strict=True)) for row in rows]
        print_document({"items": types}, output)
        return
    print_table(list(CHANNEL_TYPE_COLUMNS), rows)
