"""`bulut trace [ID]` and `bulut logs SERVICE`: what the platform recorded, in the terminal.

Both read files under the state directory, so they work while `bulut up` runs and after
it stopped: spans in ``traces.db`` (see ``bulut.observability.spans``) and instance
output under ``logs/`` (see ``bulut.observability.logfiles``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from bulut.errors import NotFoundError
from bulut.observability.logfiles import LogLine, find_sources, follow, logs_root, merge
from bulut.observability.spans import TRACES_FILE, FinishedSpan, SpanStore
from bulut.observability.trees import SpanNode, span_tree, trace_bounds

from .invocation import setting, settings_of
from .output import console

StateDir = Annotated[Path | None, setting("state_dir")]
SHOWN_ATTRIBUTES = {
    "cloudevents.event_type": "type",
    "cloudevents.event_id": "id",
    "cloudevents.event_subject": "subject",
    "kn.revision.name": "revision",
    "kn.trigger.name": "trigger",
    "http.response.status_code": "status",
    "delivery.outcome": "outcome",
}
COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red")


def open_store(state_dir: Path) -> SpanStore:
    """The span store of a state directory; NotFoundError when nothing was traced there."""
    path = state_dir / TRACES_FILE
    if not path.is_file():
        raise NotFoundError(
            f"no traces in {path}: start the platform (bulut up) and send a request first"
        )
    return SpanStore(path)


def span_label(span: FinishedSpan, trace_start: int) -> Text:
    """``name  12.3 ms  +4.0 ms  type=... id=...`` (red when the span failed)."""
    label = Text(span.name, style="bold red" if span.error else "bold")
    label.append(f"  {span.duration_ms:.1f} ms", style="green")
    label.append(f"  +{(span.start_ns - trace_start) / 1e6:.1f} ms", style="dim")
    shown = [
        f"{short}={span.attributes[key]}"
        for key, short in SHOWN_ATTRIBUTES.items()
        if key in span.attributes
    ]
    if shown:
        label.append("  " + " ".join(shown), style="cyan")
    if span.error and span.status_message:
        label.append(f"  {span.status_message}", style="red")
    return label


def trace_tree(trace_id: str, spans: list[FinishedSpan]) -> Tree:
    """A rich Tree of one trace."""
    start, end = trace_bounds(spans)
    tree = Tree(
        Text(f"trace {trace_id}  {(end - start) / 1e6:.1f} ms  {len(spans)} spans", style="bold")
    )

    def add(parent: Tree, node: SpanNode) -> None:
        branch = parent.add(span_label(node.span, start))
        for child in node.children:
            add(branch, child)

    for root in span_tree(spans):
        add(tree, root)
    return tree


def show_trace(ident: str | None, state_dir: Path, every: bool) -> None:
    """Print the span tree(s) for ``ident``, or the newest traces without one."""
    store = open_store(state_dir)
    try:
        if ident is None:
            rows = [
                (
                    s.trace_id,
                    s.name,
                    datetime.fromtimestamp(s.start_ns / 1e9, UTC).strftime("%H:%M:%S.%f")[:-3],
                    f"{s.duration_ms:.1f} ms",
                    s.attributes.get("cloudevents.event_id", ""),
                )
                for s in store.recent()
            ]
            table = Table(box=None, header_style="bold", pad_edge=False)
            table.add_column("TRACE", no_wrap=True, min_width=32)
            for column in ("ROOT", "STARTED", "DURATION", "EVENT"):
                table.add_column(column)
            for row in rows:
                table.add_row(*(str(cell) for cell in row))
            Console(highlight=False).print(table)
            return
        found = store.find(ident)
        if not found:
            raise NotFoundError(
                f"no trace for {ident!r}: give a trace id, a CloudEvent id or an order id"
            )
        for trace_id in found if every else found[:1]:
            Console(highlight=False).print(trace_tree(trace_id, store.trace(trace_id)))
        if len(found) > 1 and not every:
            console().print(
                Text(f"{len(found) - 1} older trace(s) match; --all shows them", style="dim")
            )
    finally:
        store.close()


def _print_line(line: LogLine, colours: dict[str, str]) -> None:
    colour = colours.setdefault(line.source.label, COLOURS[len(colours) % len(COLOURS)])
    text = Text(f"[{line.source.label}] ", style=colour)
    text.append(line.text)
    console().print(text)


def show_logs(
    service: str,
    namespace: str,
    revision: str | None,
    tail: int,
    follow_lines: bool,
    state_dir: Path,
) -> None:
    """Print a service's merged instance output, then follow it when asked."""
    root = logs_root(state_dir)
    sources = find_sources(root, namespace, service, revision)
    if not sources and not follow_lines:
        where = root / namespace / service
        raise NotFoundError(f"no logs for service {namespace}/{service} under {where}")
    colours: dict[str, str] = {}
    for line in merge(sources, last=tail if tail >= 0 else None):
        _print_line(line, colours)
    if follow_lines:
        try:
            for line in follow(root, namespace, service, revision):
                _print_line(line, colours)
        except KeyboardInterrupt:
            return


def trace(
    ctx: typer.Context,
    ident: Annotated[
        str | None,
        typer.Argument(help="Trace id, CloudEvent id or order id (event subject)."),
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Show every matching trace.")] = False,
    state_dir: StateDir = None,
) -> None:
    """Show the span tree of one request or saga (the newest traces without ID)."""
    show_trace(ident, settings_of(ctx).state_dir, every)


def logs(
    ctx: typer.Context,
    service: Annotated[str, typer.Argument(help="Knative Service name.")],
    namespace: Annotated[
        str | None, setting("namespace", "-n", "--namespace", help="Namespace.")
    ] = None,
    revision: Annotated[str | None, typer.Option("--revision", help="Only this revision.")] = None,
    tail: Annotated[int, typer.Option("--tail", help="Lines of history (-1: all).")] = 200,
    follow_lines: Annotated[
        bool, typer.Option("-f", "--follow", help="Keep printing new lines.")
    ] = False,
    state_dir: StateDir = None,
) -> None:
    """Print the merged output of a service's instances (kubectl logs style)."""
    settings = settings_of(ctx)
    show_logs(service, settings.namespace, revision, tail, follow_lines, settings.state_dir)
