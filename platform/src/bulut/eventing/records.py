"""What the broker log holds: events, delivery outcomes, and the retention bounds."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bulut.httpd import Header
from bulut.observability.tracing import TraceContext


@dataclass(frozen=True, slots=True)
class Retention:
    """How long delivered events stay in the log (newest ``max_events`` and ``max_age``).

    An event is removed only once every trigger of its broker is past it and it is
    outside *either* bound; undelivered events are never removed.
    """

    max_events: int = 100_000
    max_age_seconds: float = 7 * 86400.0
    interval_seconds: float = 30.0


@dataclass(slots=True)
class StoredEvent:
    """One event in the log, with its binary-mode encoding ready to send.

    ``attributes`` are the event's context attributes as a subscriber sees them
    (``knativebrokerttl`` is kept apart in ``ttl``). ``trace`` is the context of its
    ``traceparent`` extension when the ingress already knows it (read back from the
    attributes otherwise, e.g. for events loaded from the log).
    """

    seq: int
    namespace: str
    broker: str
    id: str
    source: str
    type: str
    ttl: int
    attributes: dict[str, Any]
    headers: list[Header]
    body: bytes
    received: float = field(default_factory=time.time)
    trace: TraceContext | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The terminal result of delivering one event to one trigger."""

    seq: int
    trigger: str
    outcome: str  # delivered | replied | dead-lettered | failed
    attempts: int
    code: int
    destination: str
    detail: str = ""
    history: tuple[dict[str, Any], ...] = ()
    finished: float = field(default_factory=time.time)


def pack_headers(headers: Iterable[Header]) -> bytes:
    """Headers as ``name:value`` lines (values never contain a newline)."""
    return b"\n".join([name + b":" + value for name, value in headers])


def unpack_headers(blob: bytes) -> list[Header]:
    """Inverse of :func:`pack_headers`."""
    if not blob:
        return []
    pairs = (line.partition(b":") for line in blob.split(b"\n"))
    return [(name, value) for name, _, value in pairs]
