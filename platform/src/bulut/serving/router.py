"""The router: the data plane's ASGI app on :8080 (Knative's ingress + activator path).

Per request: find the host in the table (``<svc>.<ns>.<domain>`` or
``<tag>-<svc>.<ns>.<domain>``), pick a revision by percent, validate a CloudEvent when
the function takes CloudEvents (400 problem+json naming the attribute; the original
bytes are forwarded unchanged), then hand the request to the revision. Knative's own
status codes and bodies are kept: 503 "pending request queue full", 504 "activator
request timeout" / "request timeout", 502 for an instance that died. Hosts that are not
service hosts go to ``fallback`` (the broker ingress) or get 404.
"""

from __future__ import annotations

import random
import time
from collections.abc import MutableMapping

from starlette.types import ASGIApp, Receive, Scope, Send

from bulut.errors import BulutError, InvalidCloudEventError, problem_response
from bulut.events import decode, headers_from_asgi
from bulut.observability.logs import log_context
from bulut.observability.metrics import PlatformMetrics
from bulut.observability.tracer import Tracer
from bulut.observability.tracing import (
    from_raw_headers,
    span_attributes_from_headers,
    to_headers,
)
from bulut.serving.revisions import RevisionRuntime
from bulut.serving.traffic import Split, normalise_host
from bulut.serving.upstream import serialise_request

HEALTH_PATHS = frozenset({"/health/liveness", "/health/readiness"})
TEXT = [(b"content-type", b"text/plain; charset=utf-8")]


async def read_body(receive: Receive) -> bytes:
    """The whole request body."""
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    while message.get("more_body", False):
        message = await receive()
        chunks.append(message.get("body", b""))
    return b"".join(chunks)


async def respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    """Send a whole response."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def respond_text(send: Send, status: int, text: str) -> None:
    """A plain-text answer, the way Knative's activator and queue-proxy write them."""
    body = (text + "\n").encode()
    await respond(send, status, [*TEXT, (b"content-length", str(len(body)).encode())], body)


def validate_event(headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    """Raise :class:`InvalidCloudEventError` naming the attribute when the event is bad."""
    decode(headers_from_asgi(headers), body, check_json_data=True)


class Router:
    """Host table + revisions → an ASGI app."""

    def __init__(
        self,
        revisions: MutableMapping[tuple[str, str], RevisionRuntime],
        *,
        fallback: ASGIApp | None = None,
        tracer: Tracer | None = None,
        metrics: PlatformMetrics | None = None,
    ) -> None:
        self.revisions = revisions
        self.tracer = tracer if tracer is not None else Tracer.disabled()
        self.metrics = metrics
        self.table: dict[str, Split] = {}
        self.fallback = fallback
        self.default: Split | None = None  # every other host (`bulut func run`)
        self._random = random.random

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if self.fallback is not None:
                await self.fallback(scope, receive, send)
            elif scope["type"] == "lifespan":
                await _lifespan(receive, send)
            return
        split = None
        for name, value in scope["headers"]:
            if name == b"host":
                split = self.table.get(normalise_host(value))
                break
        if split is None:
            split = self.default
        if split is None:
            if self.fallback is not None:
                await self.fallback(scope, receive, send)
            else:
                await respond_text(send, 404, "no service for this host")
            return
        revision_name = split.choose(self._random())
        runtime = self.revisions.get((split.namespace, revision_name or ""))
        if runtime is None:
            await respond_text(send, 503, f"revision {revision_name} is not available")
            return
        await self.forward(runtime, scope, receive, send)

    async def forward(
        self, runtime: RevisionRuntime, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Validate (CloudEvents), proxy through the revision, answer."""
        body = await read_body(receive)
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        if runtime.spec.workload.validates_events and scope["path"] not in HEALTH_PATHS:
            try:
                validate_event(headers, body)
            except InvalidCloudEventError as error:
                await respond(send, *problem_response(error, instance=scope["path"]))
                return
        spec = runtime.spec
        span = self.tracer.start_span(
            f"router {spec.name}",
            from_raw_headers(headers),
            {
                "k8s.namespace.name": spec.namespace,
                "kn.service.name": spec.service,
                "kn.revision.name": spec.name,
                "http.request.method": scope["method"],
                **span_attributes_from_headers(headers),
            },
            kind="server",
        )
        headers = [(n, v) for n, v in headers if n not in (b"traceparent", b"tracestate")]
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        client = scope.get("client")
        extra = [
            *forwarding_headers(headers, client[0] if client else ""),
            *to_headers(span.context),
        ]

        def build(via_activator: bool) -> bytes:
            added = [*extra, (b"k-proxy-request", b"activator")] if via_activator else extra
            return serialise_request(scope["method"], target, headers, body, added)

        started, status = time.perf_counter(), 502
        ce_id = span.attributes.get("cloudevents.event_id")
        try:
            with log_context(
                revision=spec.name, ce_id=str(ce_id) if ce_id else None, trace_id=span.trace_id
            ):
                try:
                    response = await runtime.proxy(build)
                except BulutError as error:
                    status = error.http_status
                    await respond_text(send, error.http_status, error.message)
                    return
                status = response.status
            length = (b"content-length", str(len(response.body)).encode())
            await respond(send, response.status, [*response.headers, length], response.body)
        finally:
            span.end(status_code=status)
            if self.metrics is not None:
                self.metrics.request_finished(
                    spec.namespace,
                    spec.service,
                    spec.name,
                    status,
                    time.perf_counter() - started,
                    spec.configuration,
                )


def forwarding_headers(
    headers: list[tuple[bytes, bytes]], client: str
) -> list[tuple[bytes, bytes]]:
    """X-Forwarded-For (appended) and X-Forwarded-Proto, as Knative's ingress sets them."""
    extra: list[tuple[bytes, bytes]] = []
    if client:
        extra.append((b"x-forwarded-for", client.encode()))
    if not any(name == b"x-forwarded-proto" for name, _ in headers):
        extra.append((b"x-forwarded-proto", b"http"))
    return extra


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
