"""The dashboard's HTML: the page, and the fragments the live stream replaces (pure).

Everything is inline (CSS, a small script, SVG charts): the dashboard loads nothing from
outside the control plane. Values from resources are always escaped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from .assets import SCRIPT, STYLE
from .charts import scale_chart
from .live import LiveState, scale_of, source_kinds
from .reports import DrillReport
from .topology import catalogue, event_paths

Counts = Mapping[tuple[str, str], int]


def _meta(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace", "default")), str(meta.get("name", ""))


def _conditions(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return [c for c in conditions if isinstance(c, Mapping)]


def condition_badges(obj: Mapping[str, Any]) -> str:
    """Each condition as a coloured badge; reason and message in the tooltip."""
    badges = []
    for c in _conditions(obj):
        status = str(c.get("status", "Unknown"))
        css = {"True": "ok", "False": "bad"}.get(status, "warn")
        reason = f" ({c['reason']})" if c.get("reason") else ""
        title = escape(str(c.get("message", "")), quote=True)
        badges.append(
            f'<span class="badge {css}" title="{title}">'
            f"{escape(str(c.get('type', '')))}={escape(status)}{escape(reason)}</span>"
        )
    return " ".join(badges)


def ready_of(obj: Mapping[str, Any]) -> str:
    """The Ready condition's status (``-`` when absent)."""
    for c in _conditions(obj):
        if c.get("type") == "Ready":
            return str(c.get("status", "Unknown"))
    return "-"


def traffic_text(traffic: Iterable[Mapping[str, Any]]) -> str:
    """``rev 90% · rev2 10% (tag canary)``."""
    parts = []
    for target in traffic:
        name = target.get("revisionName") or (
            "latest" if target.get("latestRevision") else target.get("configurationName", "?")
        )
        tag = f" (tag {target['tag']})" if target.get("tag") else ""
        parts.append(f"{name} {target.get('percent', 0)}%{tag}")
    return " · ".join(parts)


def _table(table_id: str, headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    if not rows:
        body = f'<tr class="empty"><td colspan="{len(headers)}">{escape(empty)}</td></tr>'
    else:
        body = "".join(
            "<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows
        )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


WATCH_ANNOTATION = "bulut.dev/watch"  # written by `--watch` (bulut.devloop.watch)


def watch_text(obj: Mapping[str, Any]) -> str:
    """The last reload under ``--watch``: when, which revision, how long; or its error."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    raw = annotations.get(WATCH_ANNOTATION)
    if not raw:
        return ""
    try:
        state = json.loads(raw)
    except ValueError:
        return ""
    when = escape(str(state.get("at", "")).replace("T", " ").replace("+00:00", " UTC"))
    if state.get("error"):
        return (
            f'<span class="badge bad" title="{escape(str(state["error"]), quote=True)}">'
            f"reload failed</span> {when}<br><code>{escape(str(state['error']))[:300]}</code>"
        )
    return (
        f'<span class="badge ok">reloaded</span> {when} → '
        f"{escape(str(state.get('revision', '')))} ({float(state.get('seconds', 0)):.2f} s)"
    )


def services_table(state: LiveState) -> str:
    """Services with URL, traffic split, conditions and the last reload under ``--watch``."""
    routes = {_meta(r): r for r in state.items("Route")}
    rows = []
    for svc in state.items("Service"):
        key = _meta(svc)
        status = svc.get("status") or {}
        traffic = status.get("traffic") or (routes.get(key, {}).get("status") or {}).get(
            "traffic", []
        )
        rows.append(
            [
                escape(key[0]),
                f'<span class="name">{escape(key[1])}</span>',
                escape(str(status.get("url", ""))),
                escape(traffic_text(traffic)),
                escape(str(status.get("latestReadyRevisionName", ""))),
                condition_badges(svc),
                watch_text(svc),
            ]
        )
    headers = ["Namespace", "Service", "URL", "Traffic", "Latest ready", "Conditions", "Watch"]
    return _table("services", headers, rows, "no services")


def revisions_table(state: LiveState, requests: Counts) -> str:
    """Revisions with instances (actual/desired), requests served and conditions."""
    rows = []
    for rev in state.items("Revision"):
        namespace, name = _meta(rev)
        labels = (rev.get("metadata") or {}).get("labels") or {}
        actual, desired = scale_of(rev)
        rows.append(
            [
                escape(namespace),
                f'<span class="name">{escape(name)}</span>',
                escape(str(labels.get("serving.knative.dev/service", ""))),
                f'<span class="scale" data-revision="{escape(name, quote=True)}">'
                f"{actual}/{desired}</span>",
                str(requests.get((namespace, name), 0)),
                condition_badges(rev),
            ]
        )
    headers = ["Namespace", "Revision", "Service", "Instances", "Requests", "Conditions"]
    return _table("revisions", headers, rows, "no revisions")


def eventing_tables(state: LiveState) -> str:
    """Brokers and triggers (with their filters and subscribers)."""
    brokers = [
        [
            escape(_meta(b)[0]),
            f'<span class="name">{escape(_meta(b)[1])}</span>',
            escape(str(((b.get("status") or {}).get("address") or {}).get("url", ""))),
            condition_badges(b),
        ]
        for b in state.items("Broker")
    ]
    triggers = []
    for t in state.items("Trigger"):
        spec, status = t.get("spec") or {}, t.get("status") or {}
        attrs = (spec.get("filter") or {}).get("attributes") or {}
        filters = ", ".join(f"{k}={v}" for k, v in attrs.items())
        if spec.get("filters"):
            filters = (filters + " " if filters else "") + json.dumps(spec["filters"])
        triggers.append(
            [
                escape(_meta(t)[0]),
                f'<span class="name">{escape(_meta(t)[1])}</span>',
                escape(str(spec.get("broker", ""))),
                escape(filters),
                escape(str(status.get("subscriberUri", ""))),
                condition_badges(t),
            ]
        )
    return _table(
        "brokers", ["Namespace", "Broker", "Address", "Conditions"], brokers, "no brokers"
    ) + _table(
        "triggers",
        ["Namespace", "Trigger", "Broker", "Filter", "Subscriber", "Conditions"],
        triggers,
        "no triggers",
    )


def topology_tables(state: LiveState) -> str:
    """The event paths (sources, triggers, channels, flows) and the catalogue per broker."""
    objects = {kind: state.items(kind) for kind in state.kinds}
    rows = [
        [escape(p.namespace), escape(p.source), escape(p.through), escape(p.target)]
        for p in event_paths(objects, source_kinds())
    ]
    channels = [
        [
            escape(_meta(c)[0]),
            f'<span class="name">{escape(_meta(c)[1])}</span>',
            escape(str(c.get("kind", ""))),
            escape(str(((c.get("status") or {}).get("address") or {}).get("url", ""))),
            str(len((c.get("status") or {}).get("subscribers") or ())),
            condition_badges(c),
        ]
        for kind in ("Channel", "Sequence", "Parallel")
        for c in state.items(kind)
    ]
    catalogue_rows = [
        [escape(ns), escape(owner), escape(event_type), escape(source)]
        for (ns, owner), types in catalogue(state.items("EventType")).items()
        for event_type, source in types
    ]
    return (
        _table(
            "event-paths",
            ["Namespace", "From", "Through", "To"],
            rows,
            "no event paths",
        )
        + _table(
            "channels",
            ["Namespace", "Name", "Kind", "Address", "Subscribers", "Conditions"],
            channels,
            "no channels or flows",
        )
        + _table(
            "event-catalogue",
            ["Namespace", "Received by", "Type", "Source"],
            catalogue_rows,
            "no event types (eventtype-auto-create is off, or no events yet)",
        )
    )


def resources_fragment(state: LiveState, requests: Counts) -> str:
    """What ``#resources`` holds: services, revisions, brokers and triggers, the topology."""
    return (
        "<h2>Services</h2>"
        + services_table(state)
        + "<h2>Revisions</h2>"
        + revisions_table(state, requests)
        + "<h2>Brokers and triggers</h2>"
        + eventing_tables(state)
        + "<h2>Event topology</h2>"
        + topology_tables(state)
    )


def charts_fragment(state: LiveState, *, now: float | None = None, window: float = 120.0) -> str:
    """What ``#charts`` holds: one instances-over-time chart per revision."""
    now = time.time() if now is None else now
    if not state.series:
        return '<p class="empty">no revisions yet</p>'
    charts = []
    for (namespace, name), points in sorted(state.series.items()):
        charts.append(
            f"<figure><figcaption>{escape(namespace)}/{escape(name)} "
            f'<span class="legend actual">actual</span> '
            f'<span class="legend desired">desired</span></figcaption>'
            f"{scale_chart(name, list(points), now=now, window=window)}</figure>"
        )
    return "".join(charts)


def report_fragment(report: DrillReport | None) -> str:
    """The last DR drill report, or a note that there is none."""
    if report is None:
        return '<p class="empty">no drill report yet (run <code>bulut dr drill</code>)</p>'
    when = datetime.fromtimestamp(report.modified, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f'<p><span class="name">{escape(report.name)}</span> · {when}</p>'
        f'<pre id="drill-report">{escape(report.text)}</pre>'
    )


def page(
    state: LiveState,
    *,
    base: str,
    eventing_base: str | None,
    requests: Counts,
    report: DrillReport | None,
    gitops_base: str | None = None,
    max_events: int = 200,
    now: float | None = None,
    window: float = 120.0,
) -> str:
    """The whole dashboard page, rendered with the state as it is ``now``."""
    config = {
        "stream": f"{base}/dashboard/stream",
        "eventing": eventing_base,
        "gitops": gitops_base,
        "maxEvents": max_events,
    }
    gitops_headers = "".join(
        f"<th>{h}</th>"
        for h in ("App", "Source", "Revision", "Sync", "Health", "Last sync", "Error", "")
    )
    config_json = json.dumps(config).replace("</", "<\\/")
    event_headers = "".join(
        f"<th>{h}</th>" for h in ("Time", "Kind", "Event id", "Where", "Type / outcome", "Code")
    )
    dead_headers = "".join(
        f"<th>{h}</th>" for h in ("Event id", "Type", "Trigger", "Outcome", "Code", "Detail", "")
    )
    charts = charts_fragment(state, now=now, window=window)
    eventing_note = "" if eventing_base else '<p class="empty">eventing is not connected</p>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bulut dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{STYLE}</style></head>
<body><header><h1>Bulut</h1><span>local Knative</span>
<span id="status" class="warn">connecting</span></header>
<main>
<section id="resources">{resources_fragment(state, requests)}</section>
<section><h2>Instances over time</h2><div id="charts">{charts}</div></section>
<section><h2>Event stream</h2>{eventing_note}
<table id="events"><thead><tr>{event_headers}</tr></thead>
<tbody id="events-body"><tr class="empty"><td colspan="6">waiting for events</td></tr></tbody>
</table></section>
<section><h2>Dead letters (<span id="dead-count">0</span>)</h2><p id="redeliver-status"></p>
<table id="dead-letters"><thead><tr>{dead_headers}</tr></thead><tbody id="dead-body"></tbody>
</table></section>
<section id="gitops"><h2>GitOps</h2><p id="gitops-status"></p>
<table id="gitops-apps"><thead><tr>{gitops_headers}</tr></thead><tbody id="gitops-body">
</tbody></table><pre id="gitops-diff"></pre></section>
<section><h2>Last DR drill</h2><div id="drill">{report_fragment(report)}</div></section>
</main>
<script type="application/json" id="config">{config_json}</script>
<script>{SCRIPT}</script>
</body></html>"""
