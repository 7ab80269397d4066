"""Broker ingress: ``POST /<namespace>/<broker>`` with Knative's answers.

| request | answer |
|---|---|
| ``OPTIONS`` (any path) | 200 with ``WebHook-Allowed-Origin: *`` and ``WebHook-Allowed-Rate: *`` |
| another method | 405 with ``Allow: POST, OPTIONS`` |
| path ``/`` | 404; a path not of the form ``/<ns>/<name>``: 400 |
| unknown broker | 404 |
| body larger than the limit | 413 |
| not a valid CloudEvent, or ``knativebrokerttl`` exhausted | 400, problem naming the attribute |
| the log could not write it | 500 |
| otherwise | 202 once the event is fsync'd (sync mode: once fan-out finished) |

Binary, structured and batched modes are accepted; a batch is accepted or rejected
whole. The ingress stamps ``knativearrivaltime``, keeps ``knativebrokerttl`` apart
(255 when absent, else decremented) and strips it from what subscribers receive.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from starlette.types import Receive, Scope, Send

from bulut.errors import BulutError, InvalidCloudEventError, NotFoundError, problem_response
from bulut.events import CloudEvent, decode, encode_binary, headers_from_asgi
from bulut.observability.tracer import Span, Tracer
from bulut.observability.tracing import (
    TraceContext,
    event_extension,
    from_event,
    from_raw_headers,
    span_attributes_from_event,
)

from .delivery import Observer
from .dispatcher import Dispatcher
from .log import EventLog
from .records import StoredEvent
from .ttl import ARRIVAL_ATTRIBUTE, DEFAULT_TTL, TTL_ATTRIBUTE, TTLExhaustedError, ingress_ttl

log = logging.getLogger(__name__)

DEFAULT_MAX_EVENT_BYTES = 256 * 1024
DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024
FANOUT_TIMEOUT = 15 * 60.0
_BATCH = "application/cloudevents-batch"
_OK_OUTCOMES = frozenset({"delivered", "replied", "dead-lettered"})


class PayloadTooLargeError(BulutError):
    """A request body above the ingress's limit."""

    http_status = 413
    title = "Payload too large"


class IngestError(BulutError):
    """The log could not store an accepted event."""

    http_status = 500
    title = "Broker ingress failure"


def arrival_time() -> str:
    """Now as RFC 3339 UTC with microseconds (``knativearrivaltime``)."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Ingress:
    """The ASGI app in front of the log, and the in-process way in for replies/sources."""

    def __init__(
        self,
        log: EventLog,
        dispatcher: Dispatcher,
        *,
        sync_fanout: bool = False,
        max_ttl: int = DEFAULT_TTL,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        fanout_timeout: float = FANOUT_TIMEOUT,
        observe: Observer | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.tracer = tracer if tracer is not None else Tracer.disabled()
        self.log = log
        self.dispatcher = dispatcher
        self.sync_fanout = sync_fanout
        self.max_ttl = max_ttl
        self.max_event_bytes = max_event_bytes
        self.max_batch_bytes = max_batch_bytes
        self.fanout_timeout = fanout_timeout
        self.observe = observe
        self.accepted = 0

    # -- in-process
    async def accept(self, namespace: str, broker: str, events: Sequence[CloudEvent]) -> int:
        """Log events for a broker as the HTTP ingress would; returns its status code."""
        try:
            await self.ingest(namespace, broker, events, wait=False)
        except BulutError as error:
            return error.http_status
        return 202

    async def ingest(
        self,
        namespace: str,
        broker: str,
        events: Sequence[CloudEvent],
        *,
        wait: bool = True,
        parent: TraceContext | None = None,
    ) -> None:
        """Validate TTLs, log durably, fan out; raises :class:`BulutError` on refusal.

        In sync mode (and with ``wait``) it returns only once every matching trigger has
        an outcome, as Knative's InMemoryChannel does; replies never wait.
        """
        if (namespace, broker) not in self.dispatcher.brokers:
            raise NotFoundError(f"broker {namespace}/{broker} does not exist")
        arrived = arrival_time()
        received = time.time()
        stored: list[StoredEvent] = []
        spans: list[Span] = []
        for event in events:
            created = from_event(event.attributes)
            span = self.tracer.start_span(
                f"broker.ingress {namespace}/{broker}",
                created or parent,
                {
                    "k8s.namespace.name": namespace,
                    "kn.broker.name": broker,
                    **span_attributes_from_event(event.attributes),
                },
                kind="server",
            )
            spans.append(span)
            try:
                ttl = ingress_ttl(event.attributes, self.max_ttl)
            except TTLExhaustedError as error:
                raise InvalidCloudEventError(str(error), field=TTL_ATTRIBUTE) from None
            changes: dict[str, Any] = {TTL_ATTRIBUTE: None, ARRIVAL_ATTRIBUTE: arrived}
            if created is None:  # everything downstream joins this trace
                changes.update(event_extension(span.context))
            outgoing = event.with_attributes(**changes)
            headers, body = encode_binary(outgoing)
            stored.append(
                StoredEvent(
                    seq=0,
                    namespace=namespace,
                    broker=broker,
                    id=outgoing.id,
                    source=outgoing.source,
                    type=outgoing.type,
                    ttl=ttl,
                    attributes=dict(outgoing.attributes),
                    headers=[(k.encode(), v.encode("latin-1")) for k, v in headers.items()],
                    body=body,
                    received=received,
                )
            )
        if not stored:
            return
        for entry in stored:
            entry.seq = self.log.next_seq()
        try:
            await self.log.append(stored)
        except sqlite3.Error as error:
            log.error("event log write failed: %s", error)
            for span in spans:
                span.end(error=True, message=str(error))
            raise IngestError(f"the event log could not store the event: {error}") from None
        self.accepted += len(stored)
        for span in spans:
            span.end(status_code=202)
        if self.observe is not None:
            for entry in stored:
                self.observe(_event_record(entry))
        sync = self.sync_fanout and wait
        futures = self.dispatcher.offer(stored, want=sync)
        if sync and futures:
            await self._wait_fanout(futures)

    async def _wait_fanout(self, futures: list[asyncio.Future[Any]]) -> None:
        try:
            outcomes = await asyncio.wait_for(asyncio.gather(*futures), self.fanout_timeout)
        except TimeoutError:
            raise IngestError("fan-out did not finish in time") from None
        failed = [o for o in outcomes if o.outcome not in _OK_OUTCOMES]
        if failed:
            raise IngestError(f"{len(failed)} trigger(s) failed to receive the event")

    # -- ASGI
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method = scope["method"]
        if method == "OPTIONS":
            await _answer(
                send, 200, [(b"webhook-allowed-origin", b"*"), (b"webhook-allowed-rate", b"*")]
            )
            return
        if method != "POST":
            await _answer(send, 405, [(b"allow", b"POST, OPTIONS")])
            return
        path = scope["path"]
        if path == "/":
            await _problem(send, NotFoundError("no broker at /"), path)
            return
        parts = path.strip("/").split("/")
        if len(parts) != 2 or not all(parts):
            await _problem(
                send, InvalidCloudEventError("the path must be /<namespace>/<broker>"), path, 400
            )
            return
        try:
            await self._post(scope, receive, parts[0], parts[1])
        except BulutError as error:
            await _problem(send, error, path)
            return
        await _answer(send, 202, [])

    async def _post(self, scope: Scope, receive: Receive, namespace: str, broker: str) -> None:
        if (namespace, broker) not in self.dispatcher.brokers:
            raise NotFoundError(f"broker {namespace}/{broker} does not exist")
        headers = headers_from_asgi(scope["headers"])
        batched = headers.get("content-type", "")[:29].lower() == _BATCH
        limit = self.max_batch_bytes if batched else self.max_event_bytes
        body = await _read_body(receive, headers, limit)
        decoded = decode(headers, body)
        events = decoded if isinstance(decoded, list) else [decoded]
        await self.ingest(namespace, broker, events, parent=from_raw_headers(scope["headers"]))


def _event_record(event: StoredEvent) -> dict[str, Any]:
    return {
        "kind": "event",
        "seq": event.seq,
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "namespace": event.namespace,
        "broker": event.broker,
        "received": event.received,
    }


async def _read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"the request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _answer(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _problem(send: Send, error: BulutError, path: str, status: int | None = None) -> None:
    code, headers, body = problem_response(error, status=status, instance=path)
    await send({"type": "http.response.start", "status": code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
