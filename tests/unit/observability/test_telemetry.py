"""A platform's telemetry: built from the state directory and the OTel environment."""

from __future__ import annotations

from pathlib import Path

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
