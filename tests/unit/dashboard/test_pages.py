"""Server-rendered tables: traffic, conditions, escaping; no external resources."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bulut.dashboard.live import LiveState
from bulut.dashboard.pages import condition_badges, page, traffic_text, watch_text
from bulut.dashboard.reports import latest_report


def added(state: LiveState, obj: dict[str, Any]) -> None:
    state.apply({"type": "ADDED", "object": obj})


def test_traffic_is_shown_as_revision_percent_and_tag() -> None:
    traffic: list[dict[str, Any]] = [
        {"revisionName": "orders-00001", "percent": 90},
        {"revisionName": "orders-00002", "percent": 10, "tag": "canary"},
        {"latestRevision": True, "percent": 0},
    ]
    assert traffic_text(traffic) == "orders-00001 90% · orders-00002 10% (tag canary) · latest 0%"


def test_conditions_are_badges_coloured_by_status_with_the_reason() -> None:
    obj = {"status": {"conditions": [
        {"type": "Ready", "status": "True"},
        {"type": "Active", "status": "False", "reason": "NoTraffic", "message": "<idle>"},
    ]}}  # fmt: skip
    html = condition_badges(obj)
    assert 'class="badge ok"' in html and "Active=False (NoTraffic)" in html
    assert 'title="&lt;idle&gt;"' in html


def test_the_page_shows_resources_escaped_and_loads_nothing_from_outside(tmp_path: Path) -> None:
    state = LiveState()
    added(state, {"kind": "Service", "metadata": {"name": "<b>evil</b>", "namespace": "shop"},
                  "status": {"traffic": [{"revisionName": "r1", "percent": 100}]}})  # fmt: skip
    added(state, {"kind": "Route", "metadata": {"name": "x", "namespace": "shop"}})
    added(state, {"kind": "Revision", "metadata": {"name": "r1", "namespace": "shop",
                  "labels": {"serving.knative.dev/service": "svc"}},
                  "status": {"actualReplicas": 2, "desiredReplicas": 3}})  # fmt: skip
    added(state, {"kind": "Broker", "metadata": {"name": "default", "namespace": "shop"},
                  "status": {"address": {"url": "http://b"}}})  # fmt: skip
    added(state, {"kind": "Trigger", "metadata": {"name": "t", "namespace": "shop"},
                  "spec": {"broker": "default",
                           "filter": {"attributes": {"type": "order.created"}}},
                  "status": {"subscriberUri": "http://s"}})  # fmt: skip
    html = page(
        state, base="", eventing_base="/eventing", requests={("shop", "r1"): 7}, report=None
    )
    assert "&lt;b&gt;evil&lt;/b&gt;" in html and "<b>evil</b>" not in html
    assert ">2/3</span>" in html and "<td>7</td>" in html
    assert "type=order.created" in html and "http://s" in html
    assert '"stream": "/dashboard/stream"' in html and '"eventing": "/eventing"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "no drill report yet" in html


def test_without_eventing_the_page_says_so() -> None:
    html = page(LiveState(), base="/ui", eventing_base=None, requests={}, report=None)
    assert "eventing is not connected" in html and '"stream": "/ui/dashboard/stream"' in html


def test_the_newest_drill_report_is_picked_and_json_is_pretty_printed(tmp_path: Path) -> None:
    assert latest_report(None) is None and latest_report(tmp_path) is None
    old = tmp_path / "old.md"
    old.write_text("# old")
    new = tmp_path / "nested" / "new.json"
    new.parent.mkdir()
    new.write_text('{"rtoSeconds": 41}')
    import os

    os.utime(old, (1, 1))
    report = latest_report(tmp_path)
    assert report is not None and report.name == "nested/new.json"
    assert report.text == '{\n  "rtoSeconds": 41\n}'


def watched_service(state: dict[str, Any]) -> dict[str, Any]:
    annotations = {"bulut.dev/watch": json.dumps(state)}
    return {"kind": "Service", "metadata": {"name": "greeter", "namespace": "dev",
                                            "annotations": annotations}}  # fmt: skip


def test_a_services_last_reload_under_watch_is_shown() -> None:
    ok = watch_text(watched_service(
        {"at": "2026-12-07T01:02:03+00:00", "seconds": 0.4, "revision": "greeter-00002"}
    ))  # fmt: skip
    assert "reloaded" in ok and "greeter-00002" in ok and "(0.40 s)" in ok
    failed = watch_text(watched_service(
        {"at": "2026-12-07T01:02:03+00:00", "seconds": 0, "error": "func.py:3: <invalid>"}
    ))  # fmt: skip
    assert "reload failed" in failed and "&lt;invalid&gt;" in failed and "<invalid>" not in failed
    assert watch_text({"kind": "Service", "metadata": {"name": "x"}}) == ""


def test_the_page_has_a_gitops_panel_fed_from_the_gitops_api() -> None:
    html = page(
        LiveState(), base="", eventing_base=None, requests={}, report=None, gitops_base="/gitops"
    )
    assert '"gitops": "/gitops"' in html
    assert 'id="gitops-apps"' in html and "Health" in html and "Last sync" in html
