"""A platform's telemetry: built from the state directory and the OTel environment."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import generate_latest

from bulut.observability.spans import SpanStore
from bulut.observability.telemetry import Telemetry


async def test_spans_end_up_in_the_state_directory_after_closing(tmp_path: Path) -> None:
    telemetry = Telemetry.create(tmp_path, environ={})
    assert telemetry.tracer.exporter is None
    telemetry.start()
    telemetry.tracer.start_span("router orders-00001").end()
    await telemetry.aclose()
    store = SpanStore(tmp_path / "traces.db")
    assert [span.name for span in store.recent()] == ["router orders-00001"]
    store.close()


async def test_an_otlp_endpoint_in_the_environment_turns_export_on(tmp_path: Path) -> None:
    telemetry = Telemetry.create(
        tmp_path, environ={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
    )
    assert telemetry.tracer.exporter is not None
    await telemetry.aclose()


async def test_tracing_can_be_switched_off(tmp_path: Path) -> None:
    telemetry = Telemetry.create(tmp_path, tracing=False)
    telemetry.tracer.start_span("x").end()
    await telemetry.aclose()
    assert not (tmp_path / "traces.db").exists()


async def test_metrics_off_hands_the_planes_no_recorders_and_keeps_the_registry(
    tmp_path: Path,
) -> None:
    on = Telemetry.create(tmp_path / "on", environ={})
    off = Telemetry.create(tmp_path / "off", metrics=False, environ={})
    assert on.recorders is on.metrics
    assert off.recorders is None
    assert b"kn_serving_invocation_duration" in generate_latest(off.metrics.registry)
    await on.aclose()
    await off.aclose()


async def test_a_trace_budget_limits_the_new_traces_a_platform_records(tmp_path: Path) -> None:
    limited = Telemetry.create(tmp_path / "limited", traces_per_second=5, environ={})
    unlimited = Telemetry.create(tmp_path / "unlimited", environ={})
    for telemetry in (limited, unlimited):
        for _ in range(50):
            telemetry.tracer.start_span("broker.ingress shop-dev/default").end()
    assert len(limited.tracer.take()) == 5
    assert len(unlimited.tracer.take()) == 50
    await limited.aclose()
    await unlimited.aclose()
