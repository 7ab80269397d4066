"""OTLP/HTTP JSON encoding and the exporter's configuration from the OTel environment."""

from __future__ import annotations

import json

import httpx

from bulut.observability.otlp import (
    OTLPExporter,
    export_request,
    parse_headers,
    traces_url,
)
from bulut.observability.spans import FinishedSpan

SPAN = FinishedSpan(
    trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
    span_id="00f067aa0ba902b7",
    parent_id="1111111111111111",
    name="broker.ingress",
    start_ns=1_700_000_000_000_000_000,
    end_ns=1_700_000_000_005_000_000,
    kind="server",
    error=True,
    status_message="boom",
    attributes={"s": "x", "i": 3, "f": 0.5, "b": True},
)


def test_a_span_is_encoded_with_hex_ids_string_times_and_typed_values() -> None:
    body = export_request([SPAN])
    (resource,) = body["resourceSpans"]
    assert resource["resource"]["attributes"] == [
        {"key": "service.name", "value": {"stringValue": "bulut"}}
    ]
    (encoded,) = resource["scopeSpans"][0]["spans"]
    assert encoded["traceId"] == SPAN.trace_id and encoded["parentSpanId"] == SPAN.parent_id
    assert encoded["kind"] == 2
    assert encoded["startTimeUnixNano"] == "1700000000000000000"
    assert encoded["status"] == {"code": 2, "message": "boom"}
    assert encoded["attributes"] == [
        {"key": "s", "value": {"stringValue": "x"}},
        {"key": "i", "value": {"intValue": "3"}},
        {"key": "f", "value": {"doubleValue": 0.5}},
        {"key": "b", "value": {"boolValue": True}},
    ]


def test_the_exporter_is_off_unless_an_otlp_endpoint_is_set() -> None:
    assert traces_url({}) is None
    assert (
        traces_url({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}) == "http://c:4318/v1/traces"
    )
    specific = {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t/x",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "y",
    }
    assert traces_url(specific) == "http://t/x"
    assert OTLPExporter.from_environ({}) is None


def test_otlp_headers_are_comma_separated_url_encoded_pairs() -> None:
    assert parse_headers("api-key=a%20b, X-Tenant=t1,broken") == {
        "api-key": "a b",
        "x-tenant": "t1",
    }


async def test_a_failed_export_is_counted_not_raised() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    exporter = OTLPExporter("http://collector/v1/traces", transport=httpx.MockTransport(refuse))
    await exporter.export([SPAN])
    assert (exporter.exported, exporter.failed) == (0, 1)
    await exporter.aclose()


async def test_an_export_posts_json_with_the_configured_headers() -> None:
    seen: list[httpx.Request] = []

    def accept(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    exporter = OTLPExporter(
        "http://collector/v1/traces",
        headers={"x-tenant": "t"},
        transport=httpx.MockTransport(accept),
    )
    await exporter.export([SPAN])
    await exporter.aclose()
    (request,) = seen
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-tenant"] == "t"
    assert json.loads(request.content)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"] == (
        "broker.ingress"
    )
    assert exporter.exported == 1
