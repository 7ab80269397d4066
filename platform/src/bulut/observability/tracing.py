"""W3C Trace Context and the CloudEvents distributed-tracing extension (pure).

``traceparent`` is ``00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>``
(w3.org/TR/trace-context). An HTTP hop carries it as the ``traceparent`` header; a
CloudEvent carries the context it was *created* in as the ``traceparent``/``tracestate``
extension attributes (cloudevents/spec ``extensions/distributed-tracing.md``), which in
binary mode travel as ``ce-traceparent``/``ce-tracestate``. Functions need no Bulut code
to join a trace: they read either header.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

VERSION = "00"
SAMPLED = 0x01
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
_random_bits = random.getrandbits


@dataclass(frozen=True, slots=True)
class TraceContext:
    """One position in a trace: the trace, the span that is the parent of what comes next."""

    trace_id: str
    span_id: str
    flags: int = SAMPLED
    state: str = ""

    @property
    def sampled(self) -> bool:
        """Whether the caller recorded this trace."""
        return bool(self.flags & SAMPLED)

    @property
    def traceparent(self) -> str:
        """The ``traceparent`` value."""
        return f"{VERSION}-{self.trace_id}-{self.span_id}-{self.flags:02x}"


def new_trace_id() -> str:
    """A random 16-byte trace id, as 32 lowercase hex digits (never all zero).

    Ids need to be unique, not secret: the Mersenne Twister (as OpenTelemetry's SDK
    uses) is five times cheaper than ``os.urandom`` on the per-request path.
    """
    while True:
        value = _random_bits(128)
        if value:
            return f"{value:032x}"


def new_span_id() -> str:
    """A random 8-byte span id, as 16 lowercase hex digits (never all zero)."""
    while True:
        value = _random_bits(64)
        if value:
            return f"{value:016x}"


def parse_traceparent(value: str | None, tracestate: str | None = None) -> TraceContext | None:
    """The context in a ``traceparent`` value, or None when it is absent or invalid.

    Invalid values are ignored, as the W3C spec asks (the receiver starts a new trace).
    Versions above 00 are read by their first four fields; version ``ff`` is invalid.
    """
    if not value:
        return None
    match = _TRACEPARENT.match(value.strip().lower())
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == VERSION and rest):
        return None
    if trace_id == _ZERO_TRACE or span_id == _ZERO_SPAN:
        return None
    return TraceContext(trace_id, span_id, int(flags, 16), (tracestate or "").strip())


def new_root(sampled: bool = True) -> TraceContext:
    """The context of a new trace's root span (its trace and span ids from one draw)."""
    while True:
        digits = f"{_random_bits(192):048x}"
        trace_id, span_id = digits[:32], digits[32:]
        if trace_id != _ZERO_TRACE and span_id != _ZERO_SPAN:
            return TraceContext(trace_id, span_id, SAMPLED if sampled else 0)


def child_of(parent: TraceContext | None) -> TraceContext:
    """A new span's context under ``parent`` (a new root when there is none)."""
    if parent is None:
        return new_root()
    return TraceContext(parent.trace_id, new_span_id(), parent.flags, parent.state)


def from_headers(headers: Mapping[str, str]) -> TraceContext | None:
    """The context of an HTTP request (lower-case header names)."""
    return parse_traceparent(headers.get(TRACEPARENT), headers.get(TRACESTATE))


def from_raw_headers(headers: Iterable[tuple[bytes, bytes]]) -> TraceContext | None:
    """The context in ASGI-style raw headers (``traceparent`` wins over ``ce-traceparent``)."""
    found: dict[bytes, bytes] = {}
    for name, value in headers:
        lowered = name.lower()
        if lowered in (b"traceparent", b"tracestate", b"ce-traceparent", b"ce-tracestate"):
            found[lowered] = value
    parent = found.get(b"traceparent") or found.get(b"ce-traceparent")
    state = found.get(b"tracestate") or found.get(b"ce-tracestate")
    if parent is None:
        return None
    return parse_traceparent(parent.decode("latin-1"), state.decode("latin-1") if state else None)


def to_headers(context: TraceContext) -> list[tuple[bytes, bytes]]:
    """``traceparent`` (and ``tracestate``) headers carrying ``context`` to the next hop."""
    headers = [(b"traceparent", context.traceparent.encode())]
    if context.state:
        headers.append((b"tracestate", context.state.encode("latin-1")))
    return headers


def replace_headers(
    headers: Iterable[tuple[bytes, bytes]], context: TraceContext
) -> list[tuple[bytes, bytes]]:
    """``headers`` with their hop-level ``traceparent``/``tracestate`` set to ``context``.

    The CloudEvent's own ``ce-traceparent`` is left alone: it records where the event was
    created, and the spec says intermediaries must not change it.
    """
    kept = [(n, v) for n, v in headers if n.lower() not in (b"traceparent", b"tracestate")]
    return [*kept, *to_headers(context)]


def from_event(attributes: Mapping[str, object]) -> TraceContext | None:
    """The context an event was created in (its distributed-tracing extension)."""
    parent = attributes.get(TRACEPARENT)
    state = attributes.get(TRACESTATE)
    return parse_traceparent(
        parent if isinstance(parent, str) else None, state if isinstance(state, str) else None
    )


def event_extension(context: TraceContext) -> dict[str, str]:
    """Extension attributes to give an event created in ``context``."""
    attributes = {TRACEPARENT: context.traceparent}
    if context.state:
        attributes[TRACESTATE] = context.state
    return attributes


_CE_HEADERS = {
    b"ce-id": "cloudevents.event_id",
    b"ce-type": "cloudevents.event_type",
    b"ce-source": "cloudevents.event_source",
    b"ce-subject": "cloudevents.event_subject",
}
_CE_ATTRIBUTES = {
    "id": "cloudevents.event_id",
    "type": "cloudevents.event_type",
    "source": "cloudevents.event_source",
    "subject": "cloudevents.event_subject",
}


def span_attributes_from_headers(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """OTel CloudEvents span attributes from binary-mode ``ce-*`` headers (others ignored)."""
    found = {}
    for name, value in headers:
        key = _CE_HEADERS.get(name.lower())
        if key is not None:
            found[key] = value.decode("latin-1")
    return found


def scan_lowercase_headers(
    headers: Iterable[tuple[bytes, bytes]],
) -> tuple[TraceContext | None, dict[str, str]]:
    """The trace context and the CloudEvents span attributes in one pass.

    For headers whose names are already lower case (the data plane's parser makes them so).
    """
    found: dict[str, str] = {}
    parent = state = ce_parent = ce_state = None
    for name, value in headers:
        if name[:3] == b"ce-":
            key = _CE_HEADERS.get(name)
            if key is not None:
                found[key] = value.decode("latin-1")
            elif name == b"ce-traceparent":
                ce_parent = value
            elif name == b"ce-tracestate":
                ce_state = value
        elif name == b"traceparent":
            parent = value
        elif name == b"tracestate":
            state = value
    if parent is None:
        parent = ce_parent
    if state is None:
        state = ce_state
    if parent is None:
        return None, found
    context = parse_traceparent(
        parent.decode("latin-1"), state.decode("latin-1") if state else None
    )
    return context, found


def span_attributes_from_event(attributes: Mapping[str, object]) -> dict[str, str]:
    """OTel CloudEvents span attributes (``cloudevents.event_id``, ...) of an event."""
    return {
        key: str(attributes[name]) for name, key in _CE_ATTRIBUTES.items() if name in attributes
    }
