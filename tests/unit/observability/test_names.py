"""Metric names: documented in docs/observability.md and the only ones the dashboards query."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bulut.observability import names

REPO = Path(__file__).resolve().parents[3]
DASHBOARDS = REPO / "gitops" / "platform" / "monitoring" / "dashboards"
COUNTERS = {names.COLD_STARTS, names.BROKER_EVENTS, names.TRIGGER_DELIVERIES, names.RETRIES,
            names.DEAD_LETTERS, names.EDGE_REJECTED, names.INGRESS_RESPONSES}  # fmt: skip
SERIES = re.compile(r"\b((?:kn|bulut|velero)_[a-z_]+)")


def metric_names() -> set[str]:
    found = set()
    for key, value in vars(names).items():
        is_metric = isinstance(value, str) and value.startswith(("kn_", "bulut_", "velero_"))
        if key.isupper() and is_metric and not value.endswith("_name"):  # labels end in _name
            found.add(value + "_total" if value in COUNTERS else value)
    return found


def test_every_metric_is_in_the_documented_mapping_table() -> None:
    doc = (REPO / "docs" / "observability.md").read_text()
    missing = sorted(name for name in metric_names() if f"| `{name}` |" not in doc)
    assert missing == []


def test_the_grafana_dashboards_query_only_series_the_platform_exports() -> None:
    exported = metric_names()
    labels = {v for v in vars(names).values() if isinstance(v, str) and v.endswith("_name")}
    allowed = labels | exported | {f"{n}_{s}" for n in exported for s in ("bucket", "count", "sum")}
    unknown: set[str] = set()
    for path in sorted(DASHBOARDS.glob("*.json")):
        dashboard = json.loads(path.read_text())
        assert dashboard["uid"].startswith("bulut-")
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                unknown |= {s for s in SERIES.findall(target["expr"]) if s not in allowed}
        for variable in dashboard["templating"]["list"]:
            query = variable.get("definition", "")
            unknown |= {s for s in SERIES.findall(query) if s not in allowed}
    assert unknown == set()
