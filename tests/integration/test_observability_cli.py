"""`bulut trace` and `bulut logs` over a real state directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bulut.cli.main import build_app
from bulut.observability.logfiles import log_path, logs_root
from bulut.observability.spans import SpanStore
from bulut.observability.tracer import Tracer

pytestmark = pytest.mark.integration


async def record_saga(state_dir: Path) -> str:
    """An order's saga as the platform would trace it: ingress, deliveries, a reply."""
    tracer = Tracer(store=SpanStore(state_dir / "traces.db"))
    order = {"cloudevents.event_id": "e-1", "cloudevents.event_subject": "order-42",
             "cloudevents.event_type": "order.created"}  # fmt: skip
    ingress = tracer.start_span("broker.ingress default/default", None, order, kind="server")
    delivery = tracer.start_span(
        "trigger.delivery default/inventory", ingress.context, {"kn.trigger.name": "inventory"}
    )
    router = tracer.start_span(
        "router inventory-00001", delivery.context, {"kn.revision.name": "inventory-00001"}
    )
    router.end(status_code=200)
    reply = tracer.start_span(
        "broker.ingress default/default",
        delivery.context,
        {"cloudevents.event_id": "e-2", "cloudevents.event_type": "inventory.reserved"},
    )
    reply.end()
    delivery.end(status_code=200)
    failing = tracer.start_span("trigger.delivery default/payments", ingress.context)
    failing.end(status_code=503, message="payments is down")
    ingress.end()
    await tracer.aclose()
    return ingress.trace_id


async def test_trace_shows_the_span_tree_of_an_order_by_any_of_its_ids(tmp_path: Path) -> None:
    trace_id = await record_saga(tmp_path)
    runner = CliRunner()
    app = build_app()
    for ident in (trace_id, "e-2", "order-42"):
        result = runner.invoke(app, ["trace", ident, "--state-dir", str(tmp_path)])
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[0].startswith(f"trace {trace_id}") and "5 spans" in lines[0]
        assert "broker.ingress default/default" in lines[1]
        assert any("router inventory-00001" in line and "ms" in line for line in lines)
        assert "payments is down" in " ".join(result.output.split())
    listing = runner.invoke(app, ["trace", "--state-dir", str(tmp_path)])
    assert listing.exit_code == 0 and trace_id in listing.output


def test_trace_explains_what_is_missing(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(build_app(), ["trace", "x", "--state-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "no traces in" in str(result.exception)


def test_logs_merges_the_instances_of_a_service(tmp_path: Path) -> None:
    root = logs_root(tmp_path)
    first = log_path(root, "shop", "orders", "orders-00001", "101")
    second = log_path(root, "shop", "orders", "orders-00001", "202")
    for path, text in ((first, "2026-11-28T04:00:01Z started\n2026-11-28T04:00:03Z order\n"),
                       (second, "2026-11-28T04:00:02Z started too\n")):  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    runner = CliRunner()
    result = runner.invoke(
        build_app(), ["logs", "orders", "-n", "shop", "--state-dir", str(tmp_path), "--tail", "2"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "[orders-00001/202] 2026-11-28T04:00:02Z started too",
        "[orders-00001/101] 2026-11-28T04:00:03Z order",
    ]
    missing = runner.invoke(build_app(), ["logs", "nope", "--state-dir", str(tmp_path)])
    assert missing.exit_code != 0
