"""Server-side tables: kn's columns for services and revisions."""

from __future__ import annotations

from datetime import UTC, datetime

from bulut.controlplane.printing import age, table, traffic_by_revision

from .factories import READY, Namespace, service

NOW = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)


def test_ages_read_like_kubectl() -> None:
    assert age("2026-01-01T00:04:18Z", NOW) == "42s"
    assert age("2026-01-01T00:00:00Z", NOW) == "5m"
    assert age("2025-12-30T00:00:00Z", NOW) == "2d"
    assert age(None, NOW) == ""


def test_service_table_has_kn_columns() -> None:
    ns = Namespace().apply(service()).report("orders-00001", READY)
    printed = table("Service", [ns["Service", "orders"]], all_namespaces=False, now=NOW)
    names = [c["name"] for c in printed["columnDefinitions"]]
    assert names == ["NAME", "URL", "LATEST", "AGE", "CONDITIONS", "READY", "REASON"]
    assert printed["rows"][0]["cells"] == [
        "orders",
        "http://orders.default.localhost:8080",
        "orders-00001",
        "5m",
        "3 OK / 3",
        "True",
        "",
    ]


def test_revision_table_shows_traffic_tags_and_instances() -> None:
    ns = Namespace().apply(
        service(traffic=[{"latestRevision": True, "percent": 100, "tag": "live"}])
    )
    ns.report("orders-00001", {**READY, "desiredScale": 2, "actualScale": 1})
    context = {"traffic": traffic_by_revision([ns["Route", "orders"]])}
    printed = table(
        "Revision", [ns["Revision", "orders-00001"]], all_namespaces=True, context=context, now=NOW
    )
    names = [c["name"] for c in printed["columnDefinitions"]]
    assert names == [
        "NAMESPACE",
        "NAME",
        "SERVICE",
        "TRAFFIC",
        "TAGS",
        "GENERATION",
        "AGE",
        "CONDITIONS",
        "READY",
        "REASON",
        "DESIRED",
        "ACTUAL",
    ]
    cells = printed["rows"][0]["cells"]
    assert cells[:6] == ["default", "orders-00001", "orders", "100%", "live", "1"]
    assert cells[-4:] == ["True", "", 2, 1]


def test_a_deploying_revision_shows_its_reason_and_no_instances() -> None:
    ns = Namespace().apply(service())
    cells = table("Revision", [ns["Revision", "orders-00001"]], all_namespaces=False, now=NOW)[
        "rows"
    ][0]["cells"]
    assert cells[-4:] == ["Unknown", "Deploying", "-", "-"]


def test_trigger_sinks_read_like_kn() -> None:
    ref = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "orders"}
    trigger = {
        "kind": "Trigger",
        "metadata": {"name": "t", "namespace": "default"},
        "spec": {"broker": "default", "subscriber": {"ref": ref}},
    }
    cells = table("Trigger", [trigger], all_namespaces=False, now=NOW)["rows"][0]["cells"]
    assert cells[:3] == ["t", "default", "ksvc:orders"]
