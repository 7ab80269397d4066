"""meta.k8s.io/v1 ``Table`` answers built from a CRD's ``additionalPrinterColumns`` (pure).

``kubectl get`` asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the
cells as they come, so the columns here are exactly the CRD's: Name first, then each
printer column. Cells follow apiextensions' rules: the first JSONPath match; strings as
text, numbers and booleans as JSON values, dates as a human duration (``5m2s``), no match
or a wrong type as null. A column of type integer over a map or list counts its entries
(ConfigMap's DATA).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .registry import ApiResource, PrinterColumn

_STEP = re.compile(
    r"""\.(?P<field>(?:\\.|[^.\[\\])+)          # .field (backslash escapes a dot)
    |\[\s*(?P<quote>['"])(?P<key>.*?)(?P=quote)\s*\]   # ['key']
    |\[\s*(?P<index>-?\d+|\*)\s*\]            # [0] or [*]
    |\[\?\(@\.(?P<fpath>[\w.]+)\s*==\s*(?P<fq>['"])(?P<fvalue>.*?)(?P=fq)\)\]  # [?(@.a=='b')]
    """,
    re.VERBOSE,
)


def evaluate(path: str, document: Any) -> list[Any]:
    """Every value a kubectl-style JSONPath (``.a.b``, ``['k']``, ``[0]``, filters) selects."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    text = text.removeprefix("$")
    nodes: list[Any] = [document]
    position = 0
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            return []
        position = match.end()
        nodes = _step(nodes, match)
    return nodes


def _step(nodes: list[Any], match: re.Match[str]) -> list[Any]:
    found: list[Any] = []
    if match.group("field") is not None or match.group("key") is not None:
        raw = match.group("field") if match.group("field") is not None else match.group("key")
        name = re.sub(r"\\(.)", r"\1", raw)
        found = [n[name] for n in nodes if isinstance(n, Mapping) and name in n]
    elif match.group("index") is not None:
        index = match.group("index")
        for node in nodes:
            if isinstance(node, list):
                if index == "*":
                    found.extend(node)
                elif -len(node) <= int(index) < len(node):
                    found.append(node[int(index)])
            elif isinstance(node, Mapping) and index == "*":
                found.extend(node.values())
    else:
        keys, wanted = match.group("fpath").split("."), match.group("fvalue")
        for node in nodes:
            for item in node if isinstance(node, list) else []:
                value: Any = item
                for key in keys:
                    value = value.get(key) if isinstance(value, Mapping) else None
                if value is not None and str(value) == wanted:
                    found.append(item)
    return found


def human_duration(seconds: float) -> str:
    """kubectl's age spelling: 42s, 5m2s, 12m, 3h4m, 20h, 3d4h, 30d, 2y100d."""
    total = int(seconds)
    if total < -1:
        return "<invalid>"
    if total < 0:
        return "0s"
    if total < 120:
        return f"{total}s"
    minutes = total // 60
    if minutes < 10:
        rest = total % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = total // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y{days}d" if days else f"{years}y"
    return f"{hours // 24 // 365}y"


def cell(column: PrinterColumn, document: Mapping[str, Any], now: datetime) -> Any:
    """One cell of one row."""
    values = evaluate(column.json_path, document)
    if not values:
        return None
    value = values[0]
    if column.type == "date":
        if not isinstance(value, str):
            return None
        try:
            then = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return "<invalid>"
        return human_duration((now - then).total_seconds())
    if column.type == "integer":
        if isinstance(value, Mapping | list):
            return len(value)
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if column.type == "number":
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if column.type == "boolean":
        return value if isinstance(value, bool) else None
    if isinstance(value, Mapping | list):
        return None
    return value if isinstance(value, str) else str(value)


def column_definitions(resource: ApiResource) -> list[dict[str, Any]]:
    """Name, then the CRD's printer columns."""
    name = {
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": "Name must be unique within a namespace.",
        "priority": 0,
    }
    columns = [
        {
            "name": c.name,
            "type": c.type,
            "format": c.format,
            "description": c.description
            or f"Custom resource definition column (in JSONPath format): {c.json_path}",
            "priority": c.priority,
        }
        for c in resource.printer_columns
    ]
    return [name, *columns]


def row_object(document: Mapping[str, Any], include: str) -> dict[str, Any] | None:
    """The row's ``object``: PartialObjectMetadata (default), the whole object, or none."""
    if include == "None":
        return None
    if include == "Object":
        return dict(document)
    meta = document.get("metadata") or {}
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {k: v for k, v in meta.items() if k != "managedFields"},
    }


def table(
    resource: ApiResource,
    documents: Iterable[Mapping[str, Any]],
    *,
    resource_version: str = "",
    continue_token: str = "",
    include: str = "Metadata",
    with_columns: bool = True,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A Table of these documents."""
    moment = now or datetime.now(UTC)
    rows = []
    for document in documents:
        cells = [(document.get("metadata") or {}).get("name")]
        cells += [cell(c, document, moment) for c in resource.printer_columns]
        row: dict[str, Any] = {"cells": cells}
        obj = row_object(document, include)
        if obj is not None:
            row["object"] = obj
        rows.append(row)
    metadata: dict[str, Any] = {}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    if continue_token:
        metadata["continue"] = continue_token
    answer: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}
    if with_columns:
        answer["columnDefinitions"] = column_definitions(resource)
    answer["rows"] = rows
    return answer
