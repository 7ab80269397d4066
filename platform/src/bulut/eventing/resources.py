"""The parts of Knative resources the eventing data plane reads (pure).

Objects arrive as plain Knative JSON from the ``ResourceFeed``; these functions turn them into
small frozen records, reading defaults and annotations with the rules of
:mod:`bulut.apis.rules` (the broker a Trigger names, a template's ``max-scale``). URLs
(``status.subscriberUri``, ``status.deadLetterSinkUri``, ``status.sinkUri``) are resolved by
the control plane.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bulut.apis.rules.eventing import trigger_broker
from bulut.apis.rules.serving import max_scale

Key = tuple[str, str]
"""(namespace, name)."""


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def key_of(obj: Mapping[str, Any]) -> Key:
    """(namespace, name) of a resource."""
    meta = _meta(obj)
    return str(meta.get("namespace") or "default"), str(meta.get("name") or "")


@dataclass(frozen=True, slots=True)
class Broker:
    """A Broker: its key and its ``spec.delivery``."""

    namespace: str
    name: str
    delivery: Mapping[str, Any] = field(default_factory=dict)
    dead_letter_sink_uri: str | None = None


@dataclass(frozen=True, slots=True)
class Trigger:
    """A Trigger as the dispatcher needs it. ``version`` changes when the spec does."""

    namespace: str
    name: str
    broker: str
    subscriber_uri: str | None
    filter_attributes: Mapping[str, str] = field(default_factory=dict)
    filters: tuple[Mapping[str, Any], ...] = ()
    delivery: Mapping[str, Any] | None = None
    dead_letter_sink_uri: str | None = None
    version: str = ""
    subscriber_audience: str | None = None
    reply_uri: str | None = None
    reply_audience: str | None = None
    dead_letter_audience: str | None = None
    subscription: bool = False
    """A durable channel's subscriber (:mod:`.channel_log`): ``broker`` is the channel's name
    in the log, ``name`` the Subscription's; the reply goes to ``reply_uri``, not back in."""

    @property
    def key(self) -> str:
        """``<namespace>/<name>``, the trigger's name in the log (a subscription's:
        ``<namespace>/<channel's log name>/<name>``, so it never meets a Trigger's)."""
        if self.subscription:
            return f"{self.namespace}/{self.broker}/{self.name}"
        return f"{self.namespace}/{self.name}"


def parse_broker(obj: Mapping[str, Any]) -> Broker:
    """Read a Broker object."""
    namespace, name = key_of(obj)
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    delivery = spec.get("delivery") or {}
    return Broker(
        namespace=namespace,
        name=name,
        delivery=delivery,
        dead_letter_sink_uri=status.get("deadLetterSinkUri"),
    )


def parse_trigger(obj: Mapping[str, Any]) -> Trigger:
    """Read a Trigger object (``status.subscriberUri`` may still be missing)."""
    namespace, name = key_of(obj)
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    filter_block = spec.get("filter") or {}
    attributes = filter_block.get("attributes") or {}
    version = json.dumps(
        [spec, status.get("subscriberUri"), status.get("deadLetterSinkUri")], sort_keys=True
    )
    return Trigger(
        namespace=namespace,
        name=name,
        broker=trigger_broker(obj),
        subscriber_uri=status.get("subscriberUri") or (spec.get("subscriber") or {}).get("uri"),
        filter_attributes={str(k): str(v) for k, v in attributes.items()},
        filters=tuple(spec.get("filters") or ()),
        delivery=spec.get("delivery") or None,
        dead_letter_sink_uri=status.get("deadLetterSinkUri"),
        version=version,
        subscriber_audience=(spec.get("subscriber") or {}).get("audience")
        or status.get("subscriberAudience")
        or None,
        dead_letter_audience=status.get("deadLetterSinkAudience") or None,
    )


def service_capacity(obj: Mapping[str, Any], default: int) -> int:
    """How many deliveries a Knative Service takes at once.

    ``containerConcurrency × max-scale`` when both are positive, else ``default``.
    """
    template = (obj.get("spec") or {}).get("template") or {}
    concurrency = int((template.get("spec") or {}).get("containerConcurrency") or 0)
    scale = max_scale(_meta(template).get("annotations") or {})
    if concurrency > 0 and scale > 0:
        return concurrency * scale
    return default
