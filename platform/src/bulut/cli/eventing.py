"""`bulut broker|trigger|source ping ...`, modelled on kn's eventing commands."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bulut.errors import InvalidInputError
from bulut.settings import Settings

from .output import OutputFormat, console, print_document
from .resources import ControlPlaneClient, collection, describe, print_listing
from .service import pairs

Namespace = Annotated[str | None, typer.Option("-n", "--namespace", help="Namespace.")]
Output = Annotated[OutputFormat, typer.Option("-o", "--output")]
Sink = Annotated[str, typer.Option("--sink", "-s", help="ksvc:NAME, broker:NAME or a URL.")]
_SINK_KINDS = {
    "ksvc": ("serving.knative.dev/v1", "Service"),
    "broker": ("eventing.knative.dev/v1", "Broker"),
    "route": ("serving.knative.dev/v1", "Route"),
}


def destination(sink: str) -> dict[str, Any]:
    """A Destination from kn's sink syntax: ``ksvc:NAME``, ``broker:NAME`` or a URI."""
    if "://" in sink:
        return {"uri": sink}
    prefix, sep, name = sink.partition(":")
    if not sep:
        prefix, name = "ksvc", sink
    if prefix not in _SINK_KINDS or not name:
        raise InvalidInputError(
            f"--sink {sink!r}: expected ksvc:NAME, broker:NAME or a URL", field="--sink"
        )
    api_version, kind = _SINK_KINDS[prefix]
    return {"ref": {"apiVersion": api_version, "kind": kind, "name": name}}


def resource(api_version: str, kind: str, name: str, namespace: str, spec: Any) -> dict[str, Any]:
    """A resource document."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def broker_spec(dead_letter_sink: str | None) -> dict[str, Any]:
    """A Broker spec; without a delivery the control plane fills Knative's default."""
    return (
        {"delivery": {"deadLetterSink": destination(dead_letter_sink)}} if dead_letter_sink else {}
    )


def trigger_spec(broker: str, filters: list[str], sink: str) -> dict[str, Any]:
    """A Trigger spec with exact attribute filters."""
    spec: dict[str, Any] = {"broker": broker, "subscriber": destination(sink)}
    if filters:
        spec["filter"] = {"attributes": dict(pairs(filters, "--filter"))}
    return spec


def ping_spec(schedule: str, data: str | None, sink: str) -> dict[str, Any]:
    """A PingSource spec."""
    spec: dict[str, Any] = {"schedule": schedule, "sink": destination(sink)}
    if data is not None:
        spec["data"] = data
    return spec


def _crud(parent: typer.Typer, kind_alias: str, label: str) -> None:
    """list, describe and delete for one kind."""

    @parent.command("list")
    def list_items(namespace: Namespace = None, output: Output = OutputFormat.table) -> None:
        """List them."""
        client = ControlPlaneClient(Settings())
        print_listing(client, kind_alias, client.namespace(namespace), output)

    @parent.command("describe")
    def describe_item(
        name: str, namespace: Namespace = None, output: Output = OutputFormat.table
    ) -> None:
        """Show one: address, sink and conditions."""
        client = ControlPlaneClient(Settings())
        found = client.request(
            "GET", f"{collection(kind_alias, client.namespace(namespace))}/{name}"
        )
        if output is OutputFormat.table:
            describe(found)
        else:
            print_document(found, output)

    @parent.command("delete")
    def delete_item(name: str, namespace: Namespace = None) -> None:
        """Delete one."""
        client = ControlPlaneClient(Settings())
        ns = client.namespace(namespace)
        client.request("DELETE", f"{collection(kind_alias, ns)}/{name}")
        console().print(f"{label} '{name}' successfully deleted in namespace '{ns}'.")


def _create(
    client: ControlPlaneClient, kind_alias: str, document: dict[str, Any], label: str
) -> None:
    ns = document["metadata"]["namespace"]
    client.request("POST", collection(kind_alias, ns), json=document)
    console().print(
        f"{label} '{document['metadata']['name']}' successfully created in namespace '{ns}'."
    )


def register(app: typer.Typer) -> None:
    """Attach `bulut broker`, `bulut trigger` and `bulut source ping`."""
    broker_app = typer.Typer(help="Brokers (kn broker).", no_args_is_help=True)
    trigger_app = typer.Typer(help="Triggers (kn trigger).", no_args_is_help=True)
    source_app = typer.Typer(help="Event sources (kn source).", no_args_is_help=True)
    ping_app = typer.Typer(help="PingSources (kn source ping).", no_args_is_help=True)
    app.add_typer(broker_app, name="broker")
    app.add_typer(trigger_app, name="trigger")
    app.add_typer(source_app, name="source")
    source_app.add_typer(ping_app, name="ping")

    @broker_app.command("create")
    def create_broker(
        name: str,
        dl_sink: Annotated[str | None, typer.Option("--dl-sink", help="Dead letter sink.")] = None,
        namespace: Namespace = None,
    ) -> None:
        """Create a Broker (default delivery: retry 10, exponential, PT0.2S)."""
        client = ControlPlaneClient(Settings())
        ns = client.namespace(namespace)
        document = resource("eventing.knative.dev/v1", "Broker", name, ns, broker_spec(dl_sink))
        _create(client, "broker", document, "Broker")

    @trigger_app.command("create")
    def create_trigger(
        name: str,
        sink: Sink,
        broker: Annotated[str, typer.Option("--broker", help="Broker name.")] = "default",
        filters: Annotated[list[str], typer.Option("--filter", help="attribute=value.")] = [],  # noqa: B006
        namespace: Namespace = None,
    ) -> None:
        """Create a Trigger that delivers a Broker's events to a sink."""
        client = ControlPlaneClient(Settings())
        ns = client.namespace(namespace)
        spec = trigger_spec(broker, filters, sink)
        _create(
            client,
            "trigger",
            resource("eventing.knative.dev/v1", "Trigger", name, ns, spec),
            "Trigger",
        )

    @ping_app.command("create")
    def create_ping(
        name: str,
        sink: Sink,
        schedule: Annotated[str, typer.Option("--schedule", help="Cron schedule.")] = "* * * * *",
        data: Annotated[str | None, typer.Option("--data", "-d", help="Event data.")] = None,
        namespace: Namespace = None,
    ) -> None:
        """Create a PingSource."""
        client = ControlPlaneClient(Settings())
        ns = client.namespace(namespace)
        spec = ping_spec(schedule, data, sink)
        document = resource("sources.knative.dev/v1", "PingSource", name, ns, spec)
        _create(client, "pingsource", document, "Ping source")

    _crud(broker_app, "broker", "Broker")
    _crud(trigger_app, "trigger", "Trigger")
    _crud(ping_app, "pingsource", "Ping source")
