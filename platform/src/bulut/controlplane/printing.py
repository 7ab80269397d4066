"""Server-side tables (``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``).

The columns are kn's: a Service shows NAME URL LATEST AGE CONDITIONS READY REASON, a
Revision NAME SERVICE TRAFFIC TAGS GENERATION AGE CONDITIONS READY DESIRED ACTUAL REASON.
``bulut get`` prints these rows; kubectl would too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bulut.manifests.feed import Resource

from .conditions import find

Row = list[Any]
Columns = tuple[str, ...]
_COMMON = ("AGE", "CONDITIONS", "READY", "REASON")


def age(timestamp: str | None, now: datetime) -> str:
    """kubectl-style age: 42s, 5m, 3h, 2d."""
    if not timestamp:
        return ""
    try:
        then = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return ""
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def common_cells(resource: Mapping[str, Any], now: datetime) -> Row:
    """AGE, CONDITIONS ("2 OK / 3"), READY, REASON."""
    status = resource.get("status") or {}
    conditions = status.get("conditions") or []
    ok = sum(1 for c in conditions if c.get("status") == "True")
    ready = find(status, "Ready") or {}
    return [
        age(resource.get("metadata", {}).get("creationTimestamp"), now),
        f"{ok} OK / {len(conditions)}",
        ready.get("status", "Unknown"),
        ready.get("reason", ""),
    ]


def _service(r: Resource, _ctx: Mapping[str, Any]) -> Row:
    status = r.get("status") or {}
    return [status.get("url", ""), status.get("latestCreatedRevisionName", "")]


def _revision(r: Resource, ctx: Mapping[str, Any]) -> Row:
    labels = r["metadata"].get("labels") or {}
    name = r["metadata"]["name"]
    targets = ctx.get("traffic", {}).get((r["metadata"].get("namespace"), name), [])
    percent = sum(int(t.get("percent") or 0) for t in targets)
    tags = ",".join(t["tag"] for t in targets if t.get("tag"))
    return [
        labels.get("serving.knative.dev/service", ""),
        f"{percent}%" if targets else "",
        tags,
        labels.get("serving.knative.dev/configurationGeneration", ""),
    ]


def _revision_tail(r: Resource) -> Row:
    status = r.get("status") or {}
    return [status.get("desiredReplicas", "-"), status.get("actualReplicas", "-")]


def _route(r: Resource, _ctx: Mapping[str, Any]) -> Row:
    return [(r.get("status") or {}).get("url", "")]


def _configuration(r: Resource, _ctx: Mapping[str, Any]) -> Row:
    status = r.get("status") or {}
    return [status.get("latestCreatedRevisionName", ""), status.get("latestReadyRevisionName", "")]


def _broker(r: Resource, _ctx: Mapping[str, Any]) -> Row:
    return [((r.get("status") or {}).get("address") or {}).get("url", "")]


def _sink_of(spec: Mapping[str, Any], key: str) -> str:
    dest = spec.get(key) or {}
    ref = dest.get("ref") or {}
    prefix = {"Service": "ksvc"}.get(str(ref.get("kind")), str(ref.get("kind", "")).lower())
    text = f"{prefix}:{ref.get('name')}" if ref else ""
    return text + (dest.get("uri") or "") if text or dest.get("uri") else ""


def _trigger(r: Resource, _ctx: Mapping[str, Any]) -> Row:
    spec = r.get("spec") or {}
    return [spec.get("broker", ""), _sink_of(spec, "subscriber")]


def _pingsource(r: Resource, _ctx: Mapping[str, Any]) -> Row:
    spec = r.get("spec") or {}
    return [spec.get("schedule", "* * * * *"), _sink_of(spec, "sink")]


def _sinkbinding(r: Resource, _ctx: Mapping[str, Any]) -> Row:
    spec = r.get("spec") or {}
    subject = spec.get("subject") or {}
    return [f"{subject.get('kind', '')}:{subject.get('name', '')}", _sink_of(spec, "sink")]


def _configmap(r: Resource, _ctx: Mapping[str, Any]) -> Row:
    return [len(r.get("data") or {})]


Cells = Callable[[Resource, Mapping[str, Any]], Row]
LAYOUTS: dict[str, tuple[Columns, Cells]] = {
    "Service": (("URL", "LATEST"), _service),
    "Revision": (("SERVICE", "TRAFFIC", "TAGS", "GENERATION"), _revision),
    "Route": (("URL",), _route),
    "Configuration": (("LATESTCREATED", "LATESTREADY"), _configuration),
    "Broker": (("URL",), _broker),
    "Trigger": (("BROKER", "SINK"), _trigger),
    "PingSource": (("SCHEDULE", "SINK"), _pingsource),
    "SinkBinding": (("SUBJECT", "SINK"), _sinkbinding),
    "ConfigMap": (("DATA",), _configmap),
}


def traffic_by_revision(routes: list[Resource]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(namespace, revision) -> the route traffic targets that point at it."""
    result: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for route in routes:
        namespace = route["metadata"].get("namespace", "default")
        for target in (route.get("status") or {}).get("traffic") or []:
            key = (namespace, str(target.get("revisionName")))
            result.setdefault(key, []).append(target)
    return result


def table(
    kind: str,
    items: list[Resource],
    *,
    all_namespaces: bool,
    context: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A meta.k8s.io/v1 Table of these items."""
    moment = now or datetime.now(UTC)
    columns, cells = LAYOUTS[kind]
    tail: Columns = ("AGE",) if kind == "ConfigMap" else _COMMON
    extra: Columns = ("DESIRED", "ACTUAL") if kind == "Revision" else ()
    names: Columns = (("NAMESPACE",) if all_namespaces else ()) + ("NAME", *columns, *tail, *extra)
    rows = []
    for item in items:
        meta = item["metadata"]
        common = common_cells(item, moment)
        row: Row = [meta.get("namespace")] if all_namespaces else []
        row += [meta["name"], *cells(item, context or {})]
        row += common[:1] if kind == "ConfigMap" else common
        if kind == "Revision":
            row += _revision_tail(item)
        rows.append({"cells": row, "object": {"metadata": meta}})
    return {
        "apiVersion": "meta.k8s.io/v1",
        "kind": "Table",
        "columnDefinitions": [{"name": n, "type": "string"} for n in names],
        "rows": rows,
    }
