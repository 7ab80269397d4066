"""OTLP/HTTP JSON export of spans, used only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

The body is an ``ExportTraceServiceRequest`` in OTLP's JSON encoding (ids as lowercase
hex, 64-bit times as decimal strings, enums as integers), POSTed with
``Content-Type: application/json`` to ``<endpoint>/v1/traces`` (or to
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` as is). ``OTEL_EXPORTER_OTLP_HEADERS`` adds headers
(``k=v,k2=v2``). A failed export is logged and dropped: tracing never blocks requests.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote

import httpx

from bulut import __version__

from .spans import AttributeValue, FinishedSpan

logger = logging.getLogger(__name__)

KIND_NUMBERS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
STATUS_OK, STATUS_ERROR = 1, 2
DEFAULT_TIMEOUT = 10.0


def any_value(value: AttributeValue) -> dict[str, Any]:
    """An OTLP ``AnyValue``."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def key_values(attributes: Mapping[str, AttributeValue]) -> list[dict[str, Any]]:
    """OTLP ``KeyValue`` list."""
    return [{"key": key, "value": any_value(value)} for key, value in attributes.items()]


def encode_span(span: FinishedSpan) -> dict[str, Any]:
    """One OTLP ``Span``."""
    encoded: dict[str, Any] = {
        "traceId": span.trace_id,
        "spanId": span.span_id,
        "name": span.name,
        "kind": KIND_NUMBERS[span.kind],
        "startTimeUnixNano": str(span.start_ns),
        "endTimeUnixNano": str(span.end_ns),
        "attributes": key_values(span.attributes),
        "status": {"code": STATUS_ERROR if span.error else STATUS_OK},
    }
    if span.parent_id:
        encoded["parentSpanId"] = span.parent_id
    if span.status_message:
        encoded["status"]["message"] = span.status_message
    return encoded


def export_request(spans: Sequence[FinishedSpan]) -> dict[str, Any]:
    """An ``ExportTraceServiceRequest``: one resource per service name."""
    by_service: dict[str, list[dict[str, Any]]] = {}
    for span in spans:
        by_service.setdefault(span.service, []).append(encode_span(span))
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": key_values({"service.name": service})},
                "scopeSpans": [
                    {"scope": {"name": "bulut", "version": __version__}, "spans": encoded}
                ],
            }
            for service, encoded in by_service.items()
        ]
    }


def parse_headers(text: str) -> dict[str, str]:
    """``OTEL_EXPORTER_OTLP_HEADERS``: comma-separated ``key=value`` (URL-encoded values)."""
    headers = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            headers[key.strip().lower()] = unquote(value.strip())
    return headers


def traces_url(environ: Mapping[str, str]) -> str | None:
    """Where to POST spans, from the standard OTel environment variables (None: off)."""
    direct = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    if direct:
        return direct
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if not base:
        return None
    return base.rstrip("/") + "/v1/traces"


class OTLPExporter:
    """POSTs batches of spans as OTLP/HTTP JSON with one pooled httpx client."""

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.exported = 0
        self.failed = 0
        self._client = httpx.AsyncClient(
            headers={"content-type": "application/json", **(headers or {})},
            timeout=timeout,
            transport=transport,
        )

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> OTLPExporter | None:
        """An exporter when ``OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`` is set, else None."""
        url = traces_url(environ)
        if url is None:
            return None
        headers = parse_headers(environ.get("OTEL_EXPORTER_OTLP_HEADERS", ""))
        headers.update(parse_headers(environ.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "")))
        return cls(url, headers=headers)

    async def export(self, spans: list[FinishedSpan]) -> None:
        """Send one batch; failures are counted and logged, never raised."""
        if not spans:
            return
        try:
            response = await self._client.post(self.url, json=export_request(spans))
            response.raise_for_status()
        except httpx.HTTPError as error:
            self.failed += len(spans)
            logger.warning("OTLP export of %d spans to %s failed: %s", len(spans), self.url, error)
            return
        self.exported += len(spans)

    async def aclose(self) -> None:
        """Close the client."""
        await self._client.aclose()
