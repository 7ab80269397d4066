"""Broker ingress: ``POST /<namespace>/<broker>`` with Knative's answers.

| request | answer |
|---|---|
| ``OPTIONS`` (any path) | 200 with ``WebHook-Allowed-Origin: *`` and ``WebHook-Allowed-Rate: *`` |
| another method | 405 with ``Allow: POST, OPTIONS`` |
| path ``/`` | 404; a path not of the form ``/<ns>/<name>``: 400 |
| unknown broker | 404 |
| body (or body and ``ce-`` attributes) above the limit; a batch of > 1,000 events | 413 |
| not a valid CloudEvent, or ``knativebrokerttl`` exhausted | 400, problem naming the attribute |
| the log could not write it | 500 |
| otherwise | 202 once the event is fsync'd (sync mode: once fan-out finished) |

Binary, structured and batched modes are accepted; a batch is accepted or rejected
whole. The ingress stamps ``knativearrivaltime``, keeps ``knativebrokerttl`` apart
(255 when absent, else decremented) and strips it from what subscribers receive.

The HTTP way in is :meth:`Ingress.handle_request`, a native :class:`bulut.httpd.Handler`:
the request is decided and its events queued for the log's next group on the spot,
and the 202 is written from the group's commit callback (no coroutine, no task per
event). In-process senders (replies, sources) use :meth:`Ingress.ingest` /
:meth:`Ingress.accept`, which share every decision: :func:`broker_of`,
:meth:`Ingress.decode_request`, :meth:`Ingress.prepare` and :meth:`Ingress.committed`.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from bulut.errors import BulutError, InvalidCloudEventError, NotFoundError, problem_response
from bulut.events import (
    AttributeValue,
    CloudEvent,
    canonical_string,
    decode,
    encode_header_value,
    headers_from_asgi,
)
from bulut.events.binary import plain_binary_attributes
from bulut.httpd import Header, Reply, Request
from bulut.httpd.server import UNLIMITED
from bulut.observability.tracer import Span, Tracer
from bulut.observability.tracing import (
    TRACEPARENT,
    TRACESTATE,
    TraceContext,
    child_of,
    event_extension,
    from_event,
    parse_traceparent,
    span_attributes_from_event,
)

from .delivery import Observer
from .dispatcher import Dispatcher
from .log import EventLog
from .records import Outcome, StoredEvent
from .ttl import ARRIVAL_ATTRIBUTE, DEFAULT_TTL, TTL_ATTRIBUTE, TTLExhaustedError, ingress_ttl

log = logging.getLogger(__name__)

DEFAULT_MAX_EVENT_BYTES = 256 * 1024
DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024
MAX_BATCH_EVENTS = 1000  # a batch is decided on the loop: this keeps one under ~50 ms
FANOUT_TIMEOUT = 15 * 60.0
_BATCH = b"application/cloudevents-batch"
_OK_OUTCOMES = frozenset({"delivered", "replied", "dead-lettered"})
_OPTIONS_HEADERS = [(b"webhook-allowed-origin", b"*"), (b"webhook-allowed-rate", b"*")]
_ALLOW_HEADERS = [(b"allow", b"POST, OPTIONS")]
_NO_HEADERS: list[tuple[bytes, bytes]] = []

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]

# printable ASCII that binary mode still percent-encodes in a ce- header value
_ENCODED_CHARS = frozenset(' "%')
_HEADER_NAMES: dict[str, bytes] = {}  # attribute name -> ce- header name
_MAX_HEADER_NAMES = 1024
_CLOUDEVENTS_MEDIA = b"application/cloudevents"  # structured or batched, not binary
_TTL_HEADER = b"ce-" + TTL_ATTRIBUTE.encode()
_ARRIVAL_HEADER = b"ce-" + ARRIVAL_ATTRIBUTE.encode()
_TRACEPARENT_HEADER = b"ce-traceparent"
_TRACESTATE_HEADER = b"ce-tracestate"


class PayloadTooLargeError(BulutError):
    """A request body above the ingress's limit."""

    http_status = 413
    title = "Payload too large"


class IngestError(BulutError):
    """The log could not store an accepted event."""

    http_status = 500
    title = "Broker ingress failure"


class _ArrivalClock:
    """Now as RFC 3339 UTC with microseconds; the date and time of day made once a second."""

    __slots__ = ("prefix", "second")

    def __init__(self) -> None:
        self.second = -1
        self.prefix = ""

    def __call__(self) -> str:
        now = time.time()
        second = int(now)
        if second != self.second:
            self.prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self.second = second
        micros = min(int((now - second) * 1_000_000), 999_999)
        return f"{self.prefix}.{micros:06d}Z"


arrival_time = _ArrivalClock()
"""Now as RFC 3339 UTC with microseconds (``knativearrivaltime``)."""


def binary_headers(attributes: Mapping[str, AttributeValue]) -> list[Header]:
    """The binary-mode headers of an event with these attributes, as raw bytes.

    What :func:`bulut.events.encode_binary` writes (``ce-*`` percent-encoded, in order,
    ``datacontenttype`` as ``content-type`` last), in one pass, without building a
    :class:`CloudEvent` for the ingress's own additions, and with one check for the
    usual case where no value needs percent-encoding.
    """
    names: list[bytes] = []
    values: list[str] = []
    content_type: AttributeValue | None = None
    for name, value in attributes.items():
        if name == "datacontenttype":
            content_type = value
            continue
        header = _HEADER_NAMES.get(name)
        if header is None:
            header = ("ce-" + name).encode()
            if len(_HEADER_NAMES) < _MAX_HEADER_NAMES:
                _HEADER_NAMES[name] = header
        names.append(header)
        values.append(value if type(value) is str else canonical_string(value))
    joined = "".join(values)
    if joined.isascii() and joined.isprintable() and not _ENCODED_CHARS.intersection(joined):
        headers = [(name, value.encode()) for name, value in zip(names, values, strict=True)]
    else:
        headers = [
            (name, encode_header_value(value).encode("latin-1"))
            for name, value in zip(names, values, strict=True)
        ]
    if content_type is not None:
        headers.append((b"content-type", str(content_type).encode("latin-1")))
    return headers


def _text_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Lower-case raw headers as text; repeated names are joined (``headers_from_asgi``)."""
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}
    return headers if len(headers) == len(raw) else headers_from_asgi(raw)


def broker_of(path: str) -> tuple[str, str]:
    """The ``(namespace, broker)`` a POST path names: 404 for ``/``, 400 for other shapes."""
    if path == "/":
        raise NotFoundError("no broker at /")
    parts = path.strip("/").split("/")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise InvalidCloudEventError("the path must be /<namespace>/<broker>")
    return parts[0], parts[1]


def _attribute_bytes(headers: Sequence[tuple[bytes, bytes]]) -> int:
    """The size of the ``ce-`` headers (a binary event's attributes), names and values."""
    return sum([len(name) + len(value) for name, value in headers if name[:3] == b"ce-"])


def _is_batch(headers: Sequence[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name == b"content-type":
            return value[:29].lower() == _BATCH
    return False


class Ingress:
    """The broker's way in: HTTP (native handler) and in-process (replies, sources)."""

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
        limits: bool = True,
    ) -> None:
        """``limits=False`` lifts the size and count limits (a measurement's baseline)."""
        self.tracer = tracer if tracer is not None else Tracer.disabled()
        self.log = log
        self.dispatcher = dispatcher
        self.sync_fanout = sync_fanout
        self.max_ttl = max_ttl
        self.limits = limits
        self.max_event_bytes = max_event_bytes if limits else UNLIMITED
        self.max_batch_bytes = max_batch_bytes if limits else UNLIMITED
        self.max_batch_events: int | None = MAX_BATCH_EVENTS if limits else None
        self.fanout_timeout = fanout_timeout
        self.observe = observe
        self.accepted = 0
        self._waiting: set[asyncio.Task[None]] = set()

    # -- the decisions, shared by every way in
    def body_limit(self, host: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> int:
        """The largest body a request with these headers may carry (its mode's limit).

        The data plane's server asks before reading a body, so an oversized one is 413
        from its Content-Length (and never gets ``100 Continue``).
        """
        return self.max_batch_bytes if _is_batch(headers) else self.max_event_bytes

    def decode_request(
        self, namespace: str, broker: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> tuple[list[CloudEvent], TraceContext | None]:
        """The events of one HTTP request (lower-case header names) and its trace parent.

        Raises 404 (unknown broker), 413 (body above the limit for its mode) or 400
        (not a CloudEvent; ``field`` names the attribute), in that order.
        """
        if (namespace, broker) not in self.dispatcher.brokers:
            raise NotFoundError(f"broker {namespace}/{broker} does not exist")
        if _is_batch(headers):
            if len(body) > self.max_batch_bytes:
                raise PayloadTooLargeError(
                    f"the request body is larger than {self.max_batch_bytes} bytes"
                )
        elif len(body) > self.max_event_bytes:
            raise PayloadTooLargeError(
                f"the request body is larger than {self.max_event_bytes} bytes"
            )
        elif self.limits and len(body) + _attribute_bytes(headers) > self.max_event_bytes:
            raise PayloadTooLargeError(
                f"the event (data and ce- attributes) is larger than {self.max_event_bytes} bytes"
            )
        text = _text_headers(headers)
        decoded = decode(text, body, max_batch_events=self.max_batch_events)
        events = decoded if isinstance(decoded, list) else [decoded]
        get = text.get  # the hop's traceparent wins over the event's (ce-traceparent)
        parent = parse_traceparent(
            get("traceparent") or get("ce-traceparent"), get("tracestate") or get("ce-tracestate")
        )
        return events, parent

    def prepare(
        self,
        namespace: str,
        broker: str,
        events: Sequence[CloudEvent],
        parent: TraceContext | None = None,
    ) -> tuple[list[StoredEvent], list[Span]]:
        """The log entries for ``events`` (sequence numbers reserved) and their spans.

        Stamps ``knativearrivaltime``, takes ``knativebrokerttl`` apart (400 naming it
        when spent), and gives an event without a trace context its ingress span's
        (with tracing off the context is made without a span).
        """
        if (namespace, broker) not in self.dispatcher.brokers:
            raise NotFoundError(f"broker {namespace}/{broker} does not exist")
        arrived = arrival_time()
        received = time.time()
        tracer = self.tracer
        stored: list[StoredEvent] = []
        spans: list[Span] = []
        for event in events:
            attributes = dict(event.attributes)
            trace = from_event(attributes)  # the context the event says it was created in
            context: TraceContext | None = None
            if tracer.enabled:
                context = self._span(namespace, broker, trace or parent, attributes, spans)
            try:
                ttl = ingress_ttl(attributes, self.max_ttl)
            except TTLExhaustedError as error:
                raise InvalidCloudEventError(str(error), field=TTL_ATTRIBUTE) from None
            attributes.pop(TTL_ATTRIBUTE, None)
            attributes[ARRIVAL_ATTRIBUTE] = arrived
            if trace is None:  # everything downstream joins this trace
                trace = context or child_of(parent)
                attributes.update(event_extension(trace))
            data = event.data
            stored.append(
                StoredEvent(
                    0,
                    namespace,
                    broker,
                    event.id,
                    event.source,
                    event.type,
                    ttl,
                    attributes,
                    binary_headers(attributes),
                    b"" if data is None else data,
                    received,
                    trace,
                )
            )
        next_seq = self.log.next_seq
        for entry in stored:
            entry.seq = next_seq()
        return stored, spans

    def _span(
        self,
        namespace: str,
        broker: str,
        parent: TraceContext | None,
        attributes: Mapping[str, AttributeValue],
        spans: list[Span],
    ) -> TraceContext:
        """Start the ingress span of one event (into ``spans``); its context."""
        span = self.tracer.start_span(f"broker.ingress {namespace}/{broker}", parent, kind="server")
        if span.recording:  # a trace left out by the sampler needs no attributes
            span.attributes.update(
                {
                    "k8s.namespace.name": namespace,
                    "kn.broker.name": broker,
                    **span_attributes_from_event(attributes),
                }
            )
        spans.append(span)
        return span.context

    def prepare_plain(
        self, namespace: str, broker: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> tuple[StoredEvent, list[Span]] | None:
        """:meth:`decode_request` and :meth:`prepare` at once for the usual request: one
        binary-mode event whose ``ce-`` values need no decoding; None for any other.

        The entry is the one those two make (same attributes, same logged headers, in the
        same order), but the ``ce-`` headers are logged as they came instead of being
        decoded and encoded again. None says nothing about the request: the full path then
        decides it (and names what is wrong, if anything is).
        """
        if (namespace, broker) not in self.dispatcher.brokers:
            return None
        ce: list[tuple[bytes, bytes]] = []
        content_type: bytes | None = None
        hop_parent = hop_state = None
        size = len(body)
        types = 0
        for pair in headers:
            name = pair[0]
            if name[:3] == b"ce-":
                ce.append(pair)
                size += len(name) + len(pair[1])
            elif name == b"content-type":
                content_type = pair[1]
                types += 1
            elif name == b"traceparent":
                hop_parent = pair[1]
            elif name == b"tracestate":
                hop_state = pair[1]
        if types > 1 or len(body) > self.max_event_bytes:
            return None
        if self.limits and size > self.max_event_bytes:
            return None
        if content_type is not None and content_type[:23].lower() == _CLOUDEVENTS_MEDIA:
            return None
        attributes = plain_binary_attributes(ce, content_type)
        if attributes is None:
            return None
        trace = from_event(attributes)
        if trace is None and ("traceparent" in attributes or "tracestate" in attributes):
            return None  # an unreadable trace context is replaced: the full path does it
        try:
            ttl = ingress_ttl(attributes, self.max_ttl)
        except TTLExhaustedError:
            return None
        parent = None
        if trace is None and hop_parent:
            state = hop_state.decode("latin-1") if hop_state else None
            parent = parse_traceparent(hop_parent.decode("latin-1"), state)
        spans: list[Span] = []
        context = None
        if self.tracer.enabled:
            context = self._span(namespace, broker, trace or parent, attributes, spans)
        arrived = arrival_time()
        stamp = arrived.encode()
        # each ce- header is one attribute: without a TTL or an arrival time among them, the
        # headers are logged as they came, the arrival time last
        rewrite = attributes.pop(TTL_ATTRIBUTE, None) is not None or ARRIVAL_ATTRIBUTE in attributes
        attributes[ARRIVAL_ATTRIBUTE] = arrived
        if rewrite:
            wire: list[tuple[bytes, bytes]] = []
            stamped = False
            for pair in ce:
                if pair[0] == _TTL_HEADER:
                    continue
                if pair[0] == _ARRIVAL_HEADER:  # an event back from a subscriber: stamped anew
                    pair, stamped = (_ARRIVAL_HEADER, stamp), True
                wire.append(pair)
            if not stamped:
                wire.append((_ARRIVAL_HEADER, stamp))
        else:
            wire = ce  # built above for this request alone
            wire.append((_ARRIVAL_HEADER, stamp))
        if trace is None:  # everything downstream joins this trace
            trace = context or child_of(parent)
            traceparent = trace.traceparent  # event_extension(trace), formatted once
            attributes[TRACEPARENT] = traceparent
            wire.append((_TRACEPARENT_HEADER, traceparent.encode()))
            if trace.state:
                attributes[TRACESTATE] = trace.state
                wire.append((_TRACESTATE_HEADER, encode_header_value(trace.state).encode()))
        if content_type is not None:
            wire.append((b"content-type", content_type))
        entry = StoredEvent(
            self.log.next_seq(),
            namespace,
            broker,
            attributes["id"],  # type: ignore[arg-type]  # validated strings
            attributes["source"],  # type: ignore[arg-type]
            attributes["type"],  # type: ignore[arg-type]
            ttl,
            attributes,
            wire,
            body,
            time.time(),
            trace,
        )
        return entry, spans

    def committed(
        self, stored: list[StoredEvent], spans: list[Span], *, want: bool
    ) -> list[asyncio.Future[Outcome]]:
        """The events are durable: count, end spans, observe, fan out (futures if ``want``)."""
        self.accepted += len(stored)
        for span in spans:
            span.end(status_code=202)
        observe = self.observe
        if observe is not None:
            for entry in stored:
                observe(_event_record(entry))
        return self.dispatcher.offer(stored, want=want)

    def failed(self, spans: list[Span], error: BaseException) -> IngestError:
        """The log could not store the events: end their spans; the 500 to answer."""
        log.error("event log write failed: %s", error)
        for span in spans:
            span.end(error=True, message=str(error))
        return IngestError(f"the event log could not store the event: {error}")

    async def wait_fanout(self, futures: list[asyncio.Future[Outcome]]) -> None:
        """Sync mode: wait for every trigger's outcome; 500 when one failed or timed out."""
        try:
            outcomes = await asyncio.wait_for(asyncio.gather(*futures), self.fanout_timeout)
        except TimeoutError:
            raise IngestError("fan-out did not finish in time") from None
        except asyncio.CancelledError:
            if (task := asyncio.current_task()) is not None and task.cancelling():
                raise
            raise IngestError("fan-out was interrupted (the broker is stopping)") from None
        failed = [o for o in outcomes if o.outcome not in _OK_OUTCOMES]
        if failed:
            raise IngestError(f"{len(failed)} trigger(s) failed to receive the event")

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
        stored, spans = self.prepare(namespace, broker, events, parent)
        if not stored:
            return
        try:
            await self.log.append(stored)
        except (sqlite3.Error, OSError) as error:
            raise self.failed(spans, error) from None
        sync = self.sync_fanout and wait
        futures = self.committed(stored, spans, want=sync)
        if sync and futures:
            await self.wait_fanout(futures)

    # -- HTTP (native handler of bulut.httpd)
    def handle_request(self, request: Request, reply: Reply) -> None:
        """Answer one HTTP request; a 202 is written once the log's group is fsync'd."""
        method = request.method
        if method != b"POST":
            if method == b"OPTIONS":
                reply.respond(200, _OPTIONS_HEADERS, b"")
            else:
                reply.respond(405, _ALLOW_HEADERS, b"")
            return
        path = request.path
        try:
            namespace, broker = broker_of(path)
            plain = self.prepare_plain(namespace, broker, request.headers, request.body)
            if plain is not None:
                stored, spans = [plain[0]], plain[1]
            else:
                events, parent = self.decode_request(
                    namespace, broker, request.headers, request.body
                )
                stored, spans = self.prepare(namespace, broker, events, parent)
        except BulutError as error:
            reply.respond(*problem_response(error, instance=path))
            return
        except Exception as error:  # a bug: answer 500 rather than break the connection
            log.exception("broker ingress failed on %s", path)
            reply.respond(*problem_response(IngestError(repr(error)), instance=path))
            return
        if not stored:  # an empty batch
            reply.respond(202, _NO_HEADERS, b"")
            return
        self.log.submit(stored, partial(self._on_commit, stored, spans, reply, path))

    def _on_commit(
        self,
        stored: list[StoredEvent],
        spans: list[Span],
        reply: Reply,
        path: str,
        error: BaseException | None,
    ) -> None:
        if error is not None:
            reply.respond(*problem_response(self.failed(spans, error), instance=path))
            return
        try:
            futures = self.committed(stored, spans, want=self.sync_fanout)
        except Exception as crash:
            log.exception("broker ingress failed after logging events on %s", path)
            reply.respond(*problem_response(IngestError(repr(crash)), instance=path))
            return
        if futures:  # sync mode: the answer waits for fan-out (not the hot path)
            task = asyncio.get_running_loop().create_task(self._after_fanout(futures, reply, path))
            self._waiting.add(task)
            task.add_done_callback(self._waiting.discard)
            return
        reply.respond(202, _NO_HEADERS, b"")

    async def _after_fanout(
        self, futures: list[asyncio.Future[Outcome]], reply: Reply, path: str
    ) -> None:
        try:
            await self.wait_fanout(futures)
        except BulutError as error:
            reply.respond(*problem_response(error, instance=path))
            return
        reply.respond(202, _NO_HEADERS, b"")


def _event_record(event: StoredEvent) -> dict[str, Any]:
    return {
        "kind": "event",
        "dataschema": event.attributes.get("dataschema"),
        "specversion": event.attributes.get("specversion"),
        "seq": event.seq,
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "namespace": event.namespace,
        "broker": event.broker,
        "received": event.received,
    }
