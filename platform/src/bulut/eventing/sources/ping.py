"""PingSource: a cron schedule that emits Knative's ping event to a sink.

Knative's adapter (mtping) accepts 5 cron fields or 6 with a *leading* seconds field,
descriptors such as ``@hourly`` (not ``@every``), and ``timezone`` (applied as
``CRON_TZ``). Each tick is jittered by a random 0–500 ms, and the event is sent once:
a failure is logged, there is no delivery spec. The event:
``type: dev.knative.sources.ping``, ``source: /apis/v1/namespaces/<ns>/pingsources/<name>``,
a fresh UUID ``id``, ``time`` = now, ``data`` from ``data`` or ``dataBase64`` with
``datacontenttype`` = ``contentType``, plus ``ceOverrides.extensions``.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bulut.errors import InvalidValueError
from bulut.events import CloudEvent, new_event
from bulut.manifests.schedules import next_fire

__all__ = ["PingSpec", "jitter", "next_fire", "parse_ping_source", "ping_event"]

PING_TYPE = "dev.knative.sources.ping"
MAX_JITTER = 0.5


@dataclass(frozen=True, slots=True)
class PingSpec:
    """A PingSource as the runner needs it."""

    namespace: str
    name: str
    schedule: str
    timezone: str | None
    content_type: str | None
    data: bytes | None
    extensions: Mapping[str, str] = field(default_factory=dict)
    sink_uri: str | None = None

    @property
    def source(self) -> str:
        """The ``source`` attribute of every event this PingSource emits."""
        return f"/apis/v1/namespaces/{self.namespace}/pingsources/{self.name}"


def parse_ping_source(obj: Mapping[str, Any]) -> PingSpec:
    """Read a PingSource object; raises ``ValueError`` naming the bad field."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    if spec.get("data") is not None and spec.get("dataBase64") is not None:
        raise InvalidValueError(
            "spec.data and spec.dataBase64 are mutually exclusive", field="spec.dataBase64"
        )
    data: bytes | None = None
    if spec.get("dataBase64") is not None:
        try:
            data = base64.b64decode(str(spec["dataBase64"]), validate=True)
        except ValueError:
            raise InvalidValueError(
                "spec.dataBase64 is not valid base64", field="spec.dataBase64"
            ) from None
    elif spec.get("data") is not None:
        data = str(spec["data"]).encode()
    schedule = str(spec.get("schedule") or "* * * * *")
    timezone = spec.get("timezone") or None
    next_fire(schedule, timezone, datetime.now(UTC))  # validates both
    sink = spec.get("sink") or {}
    overrides = (spec.get("ceOverrides") or {}).get("extensions") or {}
    return PingSpec(
        namespace=str(meta.get("namespace") or "default"),
        name=str(meta.get("name") or ""),
        schedule=schedule,
        timezone=timezone,
        content_type=spec.get("contentType") or None,
        data=data,
        extensions={str(k): str(v) for k, v in overrides.items()},
        sink_uri=status.get("sinkUri") or sink.get("uri"),
    )


def jitter(rng: random.Random | None = None) -> float:
    """Seconds added to a tick: uniform in [0, 0.5)."""
    return (rng or random).random() * MAX_JITTER


def ping_event(spec: PingSpec, now: datetime) -> CloudEvent:
    """The CloudEvent one tick emits."""
    stamp = now.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return new_event(
        type=PING_TYPE,
        source=spec.source,
        data=spec.data,
        datacontenttype=spec.content_type if spec.data is not None else None,
        time=stamp,
        **dict(spec.extensions),
    )
