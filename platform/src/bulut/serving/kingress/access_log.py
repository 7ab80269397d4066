"""HAProxy's access log read back into the router span and the request metrics.

Each request HAProxy sends to a revision's backend ends with one datagram on a Unix socket
(``log-format`` :data:`~bulut.serving.kingress.config.LOG_FORMAT`, raw: no syslog
header). It carries the backend, the status, when the request started and ended (µs), the
trace and the router span HAProxy put in the ``traceparent`` it sent the instance, the
client's parent span and flags, the method, and for CloudEvents functions the event's id,
type and source: the same span (``router <revision>``, kind server) and the same
``bulut_request_duration_seconds`` observation the gateway makes for the requests it carries.
The span's end is when the line arrives (HAProxy writes it as the response ends); its start
keeps the duration HAProxy measured.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bulut.observability.metrics import PlatformMetrics
from bulut.observability.spans import AttributeValue
from bulut.observability.tracer import Span, Tracer
from bulut.observability.tracing import TraceContext
from bulut.serving.revisions import RevisionSpec

logger = logging.getLogger(__name__)

FIELDS = 10  # before the three quoted CloudEvents fields


@dataclass(frozen=True)
class AccessRecord:
    """One request HAProxy carried to a revision."""

    backend: str
    status: int
    seconds: float
    trace_id: str
    span_id: str
    parent_id: str
    flags: int
    method: str
    event: tuple[str, str, str] | None  # id, type, source (CloudEvents functions)


def parse(line: str) -> AccessRecord | None:
    """The record in one log line, or None for a line that is not one."""
    parts = line.rstrip("\n").split("|", FIELDS)
    if len(parts) != FIELDS + 1:
        return None
    backend, status, start, seconds, micros, trace, span, parent, flags, method, rest = parts
    try:
        started = int(start)
        ended = int(seconds) * 1_000_000 + int(micros)
        code = int(status)
        flag_bits = int(flags, 16)
    except ValueError:
        return None
    event: tuple[str, str, str] | None = None
    if backend.startswith("ce:"):
        quoted = rest.strip()
        values = quoted[1:-1].split('"|"') if len(quoted) >= 2 else []
        if len(values) == 3:
            event = (values[0], values[1], values[2])
    return AccessRecord(
        backend=backend,
        status=code,
        seconds=max(0, ended - started) / 1e6,
        trace_id=trace,
        span_id=span,
        parent_id="" if parent == "-" else parent,
        flags=flag_bits,
        method=method,
        event=event,
    )


class AccessLog(asyncio.DatagramProtocol):
    """Receives HAProxy's log datagrams; records spans and metrics for known backends."""

    def __init__(
        self,
        revision_of: Callable[[str], RevisionSpec | None],
        tracer: Callable[[], Tracer],
        metrics: Callable[[], PlatformMetrics | None],
    ) -> None:
        self.revision_of = revision_of
        self.tracer = tracer
        self.metrics = metrics
        self.records = 0
        self.transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def listen(
        cls,
        path: Path,
        revision_of: Callable[[str], RevisionSpec | None],
        tracer: Callable[[], Tracer],
        metrics: Callable[[], PlatformMetrics | None],
    ) -> AccessLog:
        """Bind the Unix datagram socket at ``path`` and receive on this loop."""
        path.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        sock.bind(str(path))
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_datagram_endpoint(
            lambda: cls(revision_of, tracer, metrics), sock=sock
        )
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: object) -> None:
        record = parse(data.decode("latin-1"))
        if record is not None:
            self.record(record)

    def record(self, record: AccessRecord) -> None:
        """The span and the metric of one request."""
        spec = self.revision_of(record.backend)
        if spec is None:
            return
        self.records += 1
        metrics = self.metrics()
        if metrics is not None:
            metrics.request_finished(
                spec.namespace,
                spec.service,
                spec.name,
                record.status,
                record.seconds,
                spec.configuration,
            )
        tracer = self.tracer()
        if not tracer.enabled or not record.flags & 1:
            return
        attributes: dict[str, AttributeValue] = {
            "k8s.namespace.name": spec.namespace,
            "kn.service.name": spec.service,
            "kn.revision.name": spec.name,
            "http.request.method": record.method,
            "bulut.ingress": "haproxy",
        }
        if record.event is not None:
            attributes["cloudevents.event_id"] = record.event[0]
            attributes["cloudevents.event_type"] = record.event[1]
            attributes["cloudevents.event_source"] = record.event[2]
        context = TraceContext(record.trace_id, record.span_id, record.flags)
        start = time.time_ns() - int(record.seconds * 1e9)
        span = Span(
            tracer,
            f"router {spec.name}",
            context,
            record.parent_id,
            "server",
            attributes,
            start,
        )
        span.end(status_code=record.status)

    def close(self) -> None:
        """Stop receiving."""
        if self.transport is not None:
            self.transport.close()
