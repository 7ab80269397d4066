"""`bulut broker|trigger|source ping ...`, modelled on kn's eventing commands.

The documents are built by :mod:`bulut.manifests.kn` (``--sink`` syntax, filters).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

import typer

from bulut.manifests.kn import broker_spec, ping_spec, resource, trigger_spec
from bulut.manifests.kn_messaging import (
    CHANNEL_COLUMNS,
    EVENTTYPE_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    channel_row,
    eventtype_row,
    subscription_row,
)
from bulut.manifests.kn_sources import (
    APISERVER_COLUMNS,
    CONTAINER_COLUMNS,
    DOMAIN_COLUMNS,
    JOBSINK_COLUMNS,
    apiserver_row,
    container_row,
    domain_row,
    jobsink_row,
)

from .groups import command_group
from .invocation import settings_of
from .output import OutputFormat, console, print_document, print_table
from .resources import ControlPlaneClient, Namespace, Output, collection, print_listing, show

EVENTING = "eventing.knative.dev/v1"
SOURCES = "sources.knative.dev/v1"
Sink = Annotated[
    str, typer.Option("--sink", "-s", help="ksvc:NAME, broker:NAME, jobsink:NAME or a URL.")
]


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


def ping_group() -> typer.Typer:
    """`bulut source ping ...` (kn source ping); `bulut source` is bulut.cli.sources'."""
    return command_group(
        "PingSources (kn source ping).",
        {
            "create": create_ping,
            "list": (list_items, "List PingSources."),
            "describe": (describe_item, "Show a PingSource: schedule, sink and conditions."),
            "delete": (delete_item, "Delete a PingSource."),
        },
    )


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


def update_resource(
    client: ControlPlaneClient,
    kind: str,
    name: str,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    label: str,
) -> None:
    """Read a stored resource, replace its spec with ``change(spec)``, write it back (kn's
    update: the flags given replace what they name)."""
    path = f"{collection(kind, client.namespace)}/{name}"
    stored = client.request("GET", path)
    stored["spec"] = change(stored.get("spec") or {})
    client.request("PUT", path, json=stored)
    console().print(f"{label} '{name}' updated in namespace '{client.namespace}'.")


# -- list, describe, delete: one command each, for the kind of the group they run in

KINDS = {"broker": ("broker", "Broker"), "trigger": ("trigger", "Trigger")}
KINDS["ping"] = ("pingsource", "Ping source")
# the groups of bulut.cli.sources, bulut.cli.domains and bulut.cli.jobsinks share them too
KINDS |= {
    "apiserver": ("apiserversource", "ApiServer source"),
    "container": ("containersource", "Container source"),
    "domain": ("domainmapping", "Domain mapping"),
    "jobsink": ("jobsink", "JobSink"),
}
# the groups of bulut.cli.messaging share these commands
KINDS |= {
    "channel": ("channel", "Channel"),
    "subscription": ("subscription", "Subscription"),
    "sequence": ("sequence", "Sequence"),
    "parallel": ("parallel", "Parallel"),
    "eventtype": ("eventtype", "Eventtype"),
    "events": ("eventtype", "Eventtype"),  # `bulut events types`
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


def list_rows(
    client: ControlPlaneClient,
    kind: str,
    columns: Sequence[str],
    row: Callable[[Mapping[str, Any]], list[str]],
    output: OutputFormat,
    all_namespaces: bool,
) -> None:
    """A collection in kn's columns (a NAMESPACE column first with ``-A``), or as YAML/JSON."""
    namespace = None if all_namespaces else client.namespace
    found = client.request("GET", collection(kind, namespace))
    if output is not OutputFormat.table:
        print_document(found, output)
        return
    items = found.get("items") or []
    if not items:
        console().print(f"No {kind}s found.")
        return
    rows = [row(item) for item in items]
    if all_namespaces:
        rows = [[i["metadata"].get("namespace", ""), *r] for i, r in zip(items, rows, strict=True)]
        columns = ["NAMESPACE", *columns]
    print_table(list(columns), rows)


AllNamespaces = Annotated[
    bool, typer.Option("--all-namespaces", "-A", help="List across every namespace.")
]
# kn's columns and row of the groups whose `list` prints them client-side (kn_sources,
# kn_messaging); `bulut events types` lists EventTypes as `bulut eventtype list` does
KN_ROWS: dict[str, tuple[Sequence[str], Callable[[Mapping[str, Any]], list[str]]]] = {
    "apiserver": (APISERVER_COLUMNS, apiserver_row),
    "channel": (CHANNEL_COLUMNS, channel_row),
    "subscription": (SUBSCRIPTION_COLUMNS, subscription_row),
    "eventtype": (EVENTTYPE_COLUMNS, eventtype_row),
    "events": (EVENTTYPE_COLUMNS, eventtype_row),
    "container": (CONTAINER_COLUMNS, container_row),
    "domain": (DOMAIN_COLUMNS, domain_row),
    "jobsink": (JOBSINK_COLUMNS, jobsink_row),
}


def list_kn_rows(
    ctx: typer.Context,
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    output: Output = OutputFormat.table,
) -> None:
    """List them in kn's columns."""
    client = ControlPlaneClient(settings_of(ctx))
    group = ctx.parent.info_name if ctx.parent is not None else None
    columns, row = KN_ROWS[str(group)]
    list_rows(client, _kind(ctx)[0], columns, row, output, all_namespaces)


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
