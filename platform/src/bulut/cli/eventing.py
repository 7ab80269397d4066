"""`bulut broker|trigger|source ping ...`, modelled on kn's eventing commands.

The documents are built by :mod:`bulut.manifests.kn` (``--sink`` syntax, filters).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bulut.manifests.kn import broker_spec, ping_spec, resource, trigger_spec

from .groups import command_group
from .invocation import settings_of
from .output import OutputFormat, console
from .resources import ControlPlaneClient, Namespace, Output, collection, print_listing, show

EVENTING = "eventing.knative.dev/v1"
SOURCES = "sources.knative.dev/v1"
Sink = Annotated[str, typer.Option("--sink", "-s", help="ksvc:NAME, broker:NAME or a URL.")]


def broker_group() -> typer.Typer:
    """`bulut broker ...` (kn broker)."""
    return command_group(
        "Brokers (kn broker).",
        {
            "create": create_broker,
            "list": (list_items, "List Brokers."),
            "describe": (describe_item, "Show a Broker: address, delivery and conditions."),
            "delete": (delete_item, "Delete a Broker."),
        },
    )


def trigger_group() -> typer.Typer:
    """`bulut trigger ...` (kn trigger)."""
    return command_group(
        "Triggers (kn trigger).",
        {
            "create": create_trigger,
            "list": (list_items, "List Triggers."),
            "describe": (describe_item, "Show a Trigger: broker, subscriber and conditions."),
            "delete": (delete_item, "Delete a Trigger."),
        },
    )


def source_group() -> typer.Typer:
    """`bulut source ping ...` (kn source ping)."""
    ping = command_group(
        "PingSources (kn source ping).",
        {
            "create": create_ping,
            "list": (list_items, "List PingSources."),
            "describe": (describe_item, "Show a PingSource: schedule, sink and conditions."),
            "delete": (delete_item, "Delete a PingSource."),
        },
    )
    return command_group("Event sources (kn source).", {}, ping=ping)


# -- create


def create_broker(
    ctx: typer.Context,
    name: str,
    dl_sink: Annotated[str | None, typer.Option("--dl-sink", help="Dead letter sink.")] = None,
    namespace: Namespace = None,
) -> None:
    """Create a Broker (default delivery: retry 10, exponential, PT0.2S)."""
    create_resource(ctx, EVENTING, "Broker", name, broker_spec(dl_sink))


def create_trigger(
    ctx: typer.Context,
    name: str,
    sink: Sink,
    broker: Annotated[str, typer.Option("--broker", help="Broker name.")] = "default",
    filters: Annotated[list[str], typer.Option("--filter", help="attribute=value.")] = [],  # noqa: B006
    namespace: Namespace = None,
) -> None:
    """Create a Trigger that delivers a Broker's events to a sink."""
    create_resource(ctx, EVENTING, "Trigger", name, trigger_spec(broker, filters, sink))


def create_ping(
    ctx: typer.Context,
    name: str,
    sink: Sink,
    schedule: Annotated[str, typer.Option("--schedule", help="Cron schedule.")] = "* * * * *",
    data: Annotated[str | None, typer.Option("--data", "-d", help="Event data.")] = None,
    namespace: Namespace = None,
) -> None:
    """Create a PingSource."""
    spec = ping_spec(schedule, data, sink)
    create_resource(ctx, SOURCES, "PingSource", name, spec, label="Ping source")


def create_resource(
    ctx: typer.Context,
    api_version: str,
    kind: str,
    name: str,
    spec: dict[str, Any],
    *,
    label: str | None = None,
) -> None:
    """POST one resource to the command's namespace and print kn's sentence
    (``<Kind> 'NAME' successfully created in namespace 'NS'.``): every kn-style create."""
    client = ControlPlaneClient(settings_of(ctx))
    ns = client.namespace
    document = resource(api_version, kind, name, ns, spec)
    client.request("POST", collection(kind, ns), json=document)
    console().print(f"{label or kind} '{name}' successfully created in namespace '{ns}'.")


# -- list, describe, delete: one command each, for the kind of the group they run in

KINDS = {"broker": ("broker", "Broker"), "trigger": ("trigger", "Trigger")}
KINDS["ping"] = ("pingsource", "Ping source")
# the groups of bulut.cli.messaging share these commands
KINDS |= {
    "channel": ("channel", "Channel"),
    "subscription": ("subscription", "Subscription"),
    "sequence": ("sequence", "Sequence"),
    "parallel": ("parallel", "Parallel"),
    "eventtype": ("eventtype", "Eventtype"),
}


def _kind(ctx: typer.Context) -> tuple[str, str]:
    """(kind alias, label) of the group the command runs in (broker, trigger, ping, channel...)."""
    group = ctx.parent.info_name if ctx.parent is not None else None
    return KINDS[str(group)]


def list_items(
    ctx: typer.Context, namespace: Namespace = None, output: Output = OutputFormat.table
) -> None:
    """List them."""
    client = ControlPlaneClient(settings_of(ctx))
    print_listing(client, _kind(ctx)[0], client.namespace, output)


def describe_item(
    ctx: typer.Context, name: str, namespace: Namespace = None, output: Output = OutputFormat.table
) -> None:
    """Show one: address, sink and conditions."""
    show(ControlPlaneClient(settings_of(ctx)), _kind(ctx)[0], name, output)


def delete_item(ctx: typer.Context, name: str, namespace: Namespace = None) -> None:
    """Delete one."""
    client = ControlPlaneClient(settings_of(ctx))
    kind, label = _kind(ctx)
    client.request("DELETE", f"{collection(kind, client.namespace)}/{name}")
    console().print(f"{label} '{name}' successfully deleted in namespace '{client.namespace}'.")
