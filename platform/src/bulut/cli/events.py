"""`bulut events`: send events to a broker, follow them live, inspect and redeliver.

Talks HTTP to the eventing admin API the control plane mounts at ``/eventing`` and,
for ``send``, to the broker ingress on the data plane (``POST /<ns>/<broker>``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import typer

from bulut.errors import BulutError, InvalidInputError, NotFoundError
from bulut.events import encode_binary, new_event

from .eventing import list_kn_rows
from .groups import command_group
from .invocation import settings_of
from .output import OutputFormat, console, print_document, print_table
from .resources import Namespace


class EventingUnavailableError(BulutError):
    """The runtime is not answering."""

    http_status = 503
    title = "Eventing unavailable"


def _request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        with httpx.Client(timeout=30) as client:
            response = client.request(method, url, **kwargs)
    except httpx.TransportError as error:
        raise EventingUnavailableError(
            f"cannot reach {url} ({error}); is `bulut up` running?"
        ) from None
    if response.status_code == 404:
        raise NotFoundError(_detail(response))
    if response.status_code >= 400:
        problem = InvalidInputError(_detail(response))
        problem.http_status = response.status_code
        raise problem
    return response


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text or f"HTTP {response.status_code}"
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or body)
    return str(body)


def _time(epoch: float | None) -> str:
    if not epoch:
        return ""
    return dt.datetime.fromtimestamp(epoch).strftime("%H:%M:%S.%f")[:-3]


def _sse_records(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """JSON payloads of ``data:`` lines of a Server-Sent Events stream."""
    for line in lines:
        if line.startswith("data:"):
            yield json.loads(line[5:].strip())


def tail_row(record: dict[str, Any]) -> str:
    """One live line for an event or a finished delivery (rich markup)."""
    when = _time(record.get("received") or record.get("at")) or _time(dt.datetime.now().timestamp())
    if record.get("kind") == "event":
        where = f"{record['namespace']}/{record['broker']}"
        return (
            f"{when}  [cyan]EVENT[/]     {where:<24} {record['id']:<38} "
            f"{record['type']}  {record['source']}"
        )
    if record.get("kind") == "attempt":
        return (
            f"{when}  [dim]attempt {record['attempt']}[/] {record['trigger']:<24} "
            f"{record['id']:<38} {record['code']} {record.get('message', '')}"
        )
    colour = {"delivered": "green", "replied": "green", "dead-lettered": "yellow"}.get(
        str(record.get("outcome")), "red"
    )
    return (
        f"{when}  [{colour}]{record.get('outcome', '?').upper():<9}[/] "
        f"{record.get('trigger', ''):<24} {record.get('id', ''):<38} "
        f"code {record.get('code')} after {record.get('attempts')} attempt(s) "
        f"{record.get('detail', '')}"
    )


def _matches(record: dict[str, Any], namespace: str | None, broker: str | None) -> bool:
    if record.get("kind") == "event":
        return (namespace is None or record["namespace"] == namespace) and (
            broker is None or record["broker"] == broker
        )
    trigger = str(record.get("trigger", ""))
    return namespace is None or trigger.startswith(f"{namespace}/")


def group() -> typer.Typer:
    """`bulut events ...`."""
    return command_group(
        "Broker events: send, tail, inspect, dead letters, redeliver.",
        {
            "send": send,
            "tail": tail,
            "get": get,
            "dead-letters": dead_letters,
            "redeliver": redeliver,
            "types": (
                list_kn_rows,
                "The event catalogue: EventTypes (as bulut eventtype list).",
            ),
        },
    )


def send(
    ctx: typer.Context,
    event_type: Annotated[str, typer.Option("--type", help="CloudEvents type.")],
    source: Annotated[str, typer.Option("--source", help="CloudEvents source.")] = "/bulut/cli",
    data: Annotated[str | None, typer.Option("--data", help="JSON payload.")] = None,
    broker: Annotated[str, typer.Option("--broker", help="Broker name.")] = "default",
    namespace: Namespace = None,
    event_id: Annotated[
        str | None, typer.Option("--id", help="Event id (default: a UUID).")
    ] = None,
) -> None:
    """Send one CloudEvent (binary mode) to a broker."""
    settings = settings_of(ctx)
    payload: Any = None
    if data is not None:
        try:
            payload = json.loads(data)
        except ValueError as error:
            raise InvalidInputError(f"--data is not JSON: {error}", field="data") from None
    event = new_event(type=event_type, source=source, data=payload, id=event_id)
    headers, body = encode_binary(event)
    ns = settings.namespace
    _request("POST", f"{settings.data_url}/{ns}/{broker}", headers=headers, content=body)
    print(f"{event.id} accepted by broker {ns}/{broker}")


def tail(
    ctx: typer.Context,
    broker: Annotated[str | None, typer.Option("--broker", help="Only this broker.")] = None,
    namespace: Annotated[
        str | None, typer.Option("-n", "--namespace", help="Only this namespace.")
    ] = None,
    attempts: Annotated[bool, typer.Option(help="Also show each attempt.")] = False,
) -> None:
    """Show events and their deliveries live, as they happen (Ctrl-C to stop)."""
    settings = settings_of(ctx)
    out = console()
    url = f"{settings.control_url}/eventing/tail"
    out.print(f"[bold]{'TIME':<14}{'WHAT':<10}{'WHERE':<25}{'ID':<39}DETAIL[/]")
    try:
        with (
            httpx.Client(timeout=httpx.Timeout(10, read=None)) as client,
            client.stream("GET", url) as response,
        ):
            for record in _sse_records(response.iter_lines()):
                if record.get("kind") == "attempt" and not attempts:
                    continue
                if _matches(record, namespace, broker):
                    out.print(tail_row(record))
    except httpx.TransportError as error:
        raise EventingUnavailableError(f"cannot reach {url} ({error})") from None
    except KeyboardInterrupt:
        return


def get(
    ctx: typer.Context,
    event_id: Annotated[str, typer.Argument(help="CloudEvents id.")],
    output: Annotated[OutputFormat, typer.Option("-o", "--output")] = OutputFormat.table,
) -> None:
    """Show one event, each trigger's attempts and the outcome."""
    settings = settings_of(ctx)
    items = _request("GET", f"{settings.control_url}/eventing/events/{event_id}").json()["items"]
    if output is not OutputFormat.table:
        print_document(items, output)
        return
    for item in items:
        attrs = item["attributes"]
        print(
            f"event {attrs.get('id')} #{item['seq']} on broker {item['namespace']}/"
            f"{item['broker']}: {attrs.get('type')} from {attrs.get('source')}, "
            f"{item['dataSize']} bytes, received {_time(item['received'])}"
        )
        rows = [
            (
                d["trigger"], d["outcome"], d["attempts"], d["code"], d["destination"],
                " ".join(str(h["code"]) for h in d["history"]), d["detail"],
            )
            for d in item["deliveries"]
        ]  # fmt: skip
        rows += [(key, "in flight", "", "", "", "", "") for key in item["inFlight"]]
        print_table(
            ("TRIGGER", "OUTCOME", "ATTEMPTS", "CODE", "DESTINATION", "CODES", "DETAIL"), rows
        )


def dead_letters(
    ctx: typer.Context,
    trigger: Annotated[str | None, typer.Option("--trigger", help="ns/name.")] = None,
    output: Annotated[OutputFormat, typer.Option("-o", "--output")] = OutputFormat.table,
    namespace: Namespace = None,
    all_namespaces: Annotated[bool, typer.Option("-A", "--all-namespaces")] = False,
) -> None:
    """List deliveries that ended in the dead-letter sink (or failed without one)."""
    settings = settings_of(ctx)
    params = {"trigger": trigger} if trigger else {}
    url = f"{settings.control_url}/eventing/dead-letters"
    items = _request("GET", url, params=params).json()["items"]
    if not all_namespaces and trigger is None:
        items = [i for i in items if str(i["trigger"]).startswith(f"{settings.namespace}/")]
    if output is not OutputFormat.table:
        print_document(items, output)
        return
    rows = [
        (
            i["id"],
            i["type"],
            i["trigger"],
            i["outcome"],
            i["code"],
            i["attempts"],
            _time(i["finished"]),
        )
        for i in items
    ]
    print_table(("ID", "TYPE", "TRIGGER", "OUTCOME", "CODE", "ATTEMPTS", "FINISHED"), rows)


def redeliver(
    ctx: typer.Context,
    event_id: Annotated[str, typer.Argument(help="CloudEvents id.")],
    trigger: Annotated[str | None, typer.Option("--trigger", help="ns/name.")] = None,
) -> None:
    """Deliver a logged event again (default: to every trigger it failed for)."""
    settings = settings_of(ctx)
    params = {"trigger": trigger} if trigger else {}
    url = f"{settings.control_url}/eventing/events/{event_id}/redeliver"
    body = _request("POST", url, params=params).json()
    print(f"{event_id}: redelivering to {', '.join(body['redelivering'])}")
