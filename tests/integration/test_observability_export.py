"""Spans leave over OTLP/HTTP JSON and /metrics serves Prometheus text, on loopback servers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bulut.observability.exposition import metrics_route
from bulut.observability.metrics import PlatformMetrics
from bulut.observability.otlp import OTLPExporter
from bulut.observability.spans import SpanStore
from bulut.observability.tracer import Tracer
from tests.support.network import request_body, serving

pytestmark = pytest.mark.integration


class Collector:
    """A tiny OTLP/HTTP receiver that records every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await request_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append((scope["path"], headers, body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def test_spans_are_exported_to_the_otlp_endpoint_and_kept_locally(tmp_path: Path) -> None:
    collector = Collector()
    async with serving(collector) as port:
        environ = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=shop",
        }
        exporter = OTLPExporter.from_environ(environ)
        assert exporter is not None
        tracer = Tracer(store=SpanStore(tmp_path / "traces.db"), exporter=exporter)
        ingress = tracer.start_span(
            "broker.ingress", None, {"cloudevents.event_id": "e-1"}, kind="server"
        )
        delivery = tracer.start_span("trigger.delivery", ingress.context, kind="client")
        delivery.end(status_code=200)
        ingress.end()
        await tracer.aclose()
    ((path, headers, body),) = collector.requests
    assert path == "/v1/traces"
    assert headers["content-type"] == "application/json" and headers["x-tenant"] == "shop"
    spans = json.loads(body)["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert [s["name"] for s in spans] == ["trigger.delivery", "broker.ingress"]
    assert spans[0]["parentSpanId"] == spans[1]["spanId"]
    assert spans[0]["traceId"] == spans[1]["traceId"] == ingress.trace_id
    assert exporter.exported == 2
    store = SpanStore(tmp_path / "traces.db")
    assert store.find("e-1") == [ingress.trace_id]
    store.close()


async def test_an_unreachable_collector_loses_spans_but_not_the_request_path(
    tmp_path: Path,
) -> None:
    async with serving(Collector()) as port:
        pass  # the port is closed again
    exporter = OTLPExporter(f"http://127.0.0.1:{port}/v1/traces", timeout=1.0)
    tracer = Tracer(store=SpanStore(tmp_path / "traces.db"), exporter=exporter)
    tracer.start_span("router").end()
    await tracer.aclose()
    assert (exporter.exported, exporter.failed) == (0, 1)


async def test_metrics_are_served_as_prometheus_text() -> None:
    metrics = PlatformMetrics()
    metrics.request_finished("default", "orders", "orders-00001", 200, 0.05)
    app = Starlette(routes=[metrics_route(metrics.registry)])
    async with serving(app) as port, httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert (
        'kn_serving_invocation_duration_seconds_count{http_response_status_code="200",'
        'k8s_namespace_name="default",kn_configuration_name="orders",'
        'kn_revision_name="orders-00001",kn_service_name="orders"} 1.0'
    ) in response.text
