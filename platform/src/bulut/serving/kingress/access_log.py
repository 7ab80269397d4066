"""HAProxy's access log read back into the router span and the request metrics.

Each request HAProxy sends to a revision's backend whose trace is recorded (the sampled bit
of the ``traceparent`` it sends on, after the trace budget) ends with one line in a ring
buffer (``log-format`` :data:`~bulut.serving.kingress.config.LOG_FORMAT`, raw: no syslog
header), read in batches through the runtime API; the other requests leave no line (ADR
0030: the controller counts them from ``show stat``). A line carries the backend, the status,
when the request started and ended (µs), the trace and the router span HAProxy put in
the ``traceparent`` it sent the instance, the client's parent span and flags, the method,
and for CloudEvents functions the event's id, type and source: enough for the same span
(``router <revision>``, kind server) and the same ``kn_serving_invocation_duration_seconds``
observation the gateway makes for the requests it carries. The span's end is when the
line is read (up to ``POLL_SECONDS`` after the response ended); its start keeps the
duration HAProxy measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
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


class AccessLog:
    """Reads HAProxy's access-log ring in batches; records spans and metrics for known
    backends.

    HAProxy appends a line per request to a ring buffer (no syscall to Bulut per request);
    :meth:`follow` keeps ``show events <ring> -w -n`` open on the runtime API and reads what
    arrived every ``POLL_SECONDS``, so the platform wakes ten times a second, not once per
    request (on two cores, a wake-up per request cost the warm path latency at c=1).
    """

    POLL_SECONDS = 0.1
    WAIT_SECONDS = 0.5  # how long a quiet read waits before looking for a new generation

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
        self._partial = b""

    def feed(self, data: bytes) -> None:
        """Lines read from the ring (the last may be cut: it is kept for the next read)."""
        data = self._partial + data
        cut = data.rfind(b"\n") + 1
        self._partial = data[cut:]
        for line in data[:cut].decode("latin-1").splitlines():
            record = parse(line)
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

    async def follow(self, admin: Callable[[], Path], ring: str) -> None:
        """Tail the ring of the running generation until cancelled (a new generation, or a
        closed connection, reconnects: lines the old generation writes after that, and those
        written while a connection was down, are not recorded)."""
        followed: Path | None = None
        while True:
            path = admin()
            try:
                reader, writer = await asyncio.open_unix_connection(str(path))
            except OSError:
                await asyncio.sleep(self.POLL_SECONDS)
                continue
            # A new generation's ring is read from its start (it holds only lines not read
            # yet); the same one again (a dropped connection) from its end (-n).
            skip = " -n" if path == followed else ""
            followed = path
            try:
                writer.write(f"show events {ring} -w{skip}\n".encode())
                await writer.drain()
                self._partial = b""
                while admin() == path:  # a new generation: leave the old one (it can exit)
                    try:
                        async with asyncio.timeout(self.WAIT_SECONDS):
                            data = await reader.read(1 << 22)  # what gathered while it slept
                    except TimeoutError:
                        continue
                    if not data:
                        break  # the generation stopped: follow the next one
                    self.feed(data)
                    await asyncio.sleep(self.POLL_SECONDS)
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
