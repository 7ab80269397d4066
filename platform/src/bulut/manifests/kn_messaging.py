"""Channels, subscriptions, flows and event types from kn-style flags, and kn's list rows
(pure): what `bulut channel|subscription|sequence|parallel|eventtype` send and print.

``--type imc`` or ``Group:Version:Kind``, ``--channel [imc:|channel:|G:V:K:]NAME``,
sinks as ``ksvc:NAME``, ``broker:NAME``, ``channel:NAME``, ``imc:NAME``, ``sequence:NAME``,
``parallel:NAME`` or a URL. Errors name the flag. The list rows are the columns ``kn``
prints (``kn channel list``: Name, Type, URL, Age, Ready, Reason; ``kn subscription
list``: Name, Channel, Subscriber, Reply, Dead Letter Sink, Ready, Reason; ``kn eventtype
list``: Name, Type, Source, Reference, Age, Ready).
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

from bulut.errors import InvalidInputError

MESSAGING = "messaging.knative.dev/v1"
FLOWS = "flows.knative.dev/v1"
EVENTTYPES = "eventing.knative.dev/v1beta3"
CHANNEL_ALIASES = {"imc": (MESSAGING, "InMemoryChannel")}
SINK_KINDS = {
    "ksvc": ("serving.knative.dev/v1", "Service"),
    "broker": ("eventing.knative.dev/v1", "Broker"),
    "route": ("serving.knative.dev/v1", "Route"),
    "channel": (MESSAGING, "Channel"),
    "imc": (MESSAGING, "InMemoryChannel"),
    "sequence": (FLOWS, "Sequence"),
    "parallel": (FLOWS, "Parallel"),
    "jobsink": ("sinks.knative.dev/v1alpha1", "JobSink"),
}
SINK_HELP = (
    "ksvc:NAME, broker:NAME, channel:NAME, imc:NAME, sequence:NAME, parallel:NAME, "
    "jobsink:NAME or a URL"
)


def sink(value: str, flag: str = "--sink") -> dict[str, Any]:
    """A Destination from kn's sink syntax (a bare name is a Knative Service)."""
    if "://" in value:
        return {"uri": value}
    prefix, sep, name = value.partition(":")
    if not sep:
        prefix, name = "ksvc", value
    if prefix not in SINK_KINDS or not name:
        raise InvalidInputError(f"{flag} {value!r}: expected {SINK_HELP}", field=flag)
    api_version, kind = SINK_KINDS[prefix]
    return {"ref": {"apiVersion": api_version, "kind": kind, "name": name}}


def _group_version_kind(value: str, flag: str) -> tuple[str, str]:
    parts = value.split(":")
    if len(parts) != 3 or not all(parts):
        raise InvalidInputError(f"{flag} {value!r}: expected imc or Group:Version:Kind", field=flag)
    group, version, kind = parts
    return f"{group}/{version}", kind


def channel_template(channel_type: str | None) -> dict[str, Any] | None:
    """``--type``: ``imc`` or ``Group:Version:Kind``; None lets default-ch-webhook choose."""
    if channel_type is None:
        return None
    if channel_type in CHANNEL_ALIASES:
        api_version, kind = CHANNEL_ALIASES[channel_type]
    else:
        api_version, kind = _group_version_kind(channel_type, "--type")
    return {"apiVersion": api_version, "kind": kind}


def channel_spec(channel_type: str | None) -> dict[str, Any]:
    """A Channel spec (kn channel create)."""
    template = channel_template(channel_type)
    return {"channelTemplate": template} if template else {}


def channel_reference(value: str) -> dict[str, str]:
    """``--channel``: ``NAME`` (a Channel), ``imc:NAME``, ``channel:NAME`` or ``G:V:K:NAME``."""
    parts = value.split(":")
    if len(parts) == 1 and value:
        return {"apiVersion": MESSAGING, "kind": "Channel", "name": value}
    if len(parts) == 2 and parts[1] and parts[0] in ("imc", "channel"):
        kind = "InMemoryChannel" if parts[0] == "imc" else "Channel"
        return {"apiVersion": MESSAGING, "kind": kind, "name": parts[1]}
    if len(parts) == 4 and all(parts):
        api_version, kind = _group_version_kind(":".join(parts[:3]), "--channel")
        return {"apiVersion": api_version, "kind": kind, "name": parts[3]}
    raise InvalidInputError(
        f"--channel {value!r}: expected NAME, imc:NAME, channel:NAME or Group:Version:Kind:NAME",
        field="--channel",
    )


def subscription_spec(
    channel: str, subscriber: str, reply: str | None, dead_letter: str | None
) -> dict[str, Any]:
    """A Subscription spec (kn subscription create)."""
    spec: dict[str, Any] = {
        "channel": channel_reference(channel),
        "subscriber": sink(subscriber, "--sink"),
    }
    if reply:
        spec["reply"] = sink(reply, "--sink-reply")
    if dead_letter:
        spec["delivery"] = {"deadLetterSink": sink(dead_letter, "--sink-dead-letter")}
    return spec


def updated_subscription(
    subscription: Mapping[str, Any],
    *,
    channel: str | None = None,
    subscriber: str | None = None,
    reply: str | None = None,
    dead_letter: str | None = None,
) -> dict[str, Any]:
    """The Subscription with the flags given replaced (kn subscription update); the rest
    of its spec is kept. ``channel`` is immutable on the server: a new one is refused there."""
    if channel is subscriber is reply is dead_letter is None:
        raise InvalidInputError(
            "nothing to update: give --channel, --sink, --sink-reply or --sink-dead-letter",
            field="--sink",
        )
    result = deepcopy(dict(subscription))
    spec: dict[str, Any] = result.setdefault("spec", {})
    if channel is not None:
        spec["channel"] = channel_reference(channel)
    if subscriber is not None:
        spec["subscriber"] = sink(subscriber, "--sink")
    if reply is not None:
        spec["reply"] = sink(reply, "--sink-reply")
    if dead_letter is not None:
        delivery = spec.setdefault("delivery", {})
        delivery["deadLetterSink"] = sink(dead_letter, "--sink-dead-letter")
    return result


def sequence_spec(steps: list[str], reply: str | None, channel_type: str | None) -> dict[str, Any]:
    """A Sequence spec: ``--step`` in order, ``--reply``, ``--type``."""
    if not steps:
        raise InvalidInputError("--step: give at least one step", field="--step")
    spec: dict[str, Any] = {"steps": [sink(step, "--step") for step in steps]}
    if reply:
        spec["reply"] = sink(reply, "--reply")
    template = channel_template(channel_type)
    if template:
        spec["channelTemplate"] = template
    return spec


def parallel_branch(value: str) -> dict[str, Any]:
    """``--branch SUBSCRIBER[,filter=SINK][,reply=SINK]``."""
    subscriber, *options = value.split(",")
    if not subscriber:
        raise InvalidInputError(f"--branch {value!r}: the subscriber comes first", field="--branch")
    branch: dict[str, Any] = {"subscriber": sink(subscriber, "--branch")}
    for option in options:
        key, sep, target = option.partition("=")
        if not sep or key not in ("filter", "reply") or not target:
            raise InvalidInputError(
                f"--branch {value!r}: expected SUBSCRIBER[,filter=SINK][,reply=SINK]",
                field="--branch",
            )
        branch[key] = sink(target, "--branch")
    return branch


def parallel_spec(
    branches: list[str], reply: str | None, channel_type: str | None
) -> dict[str, Any]:
    """A Parallel spec: ``--branch`` per branch, ``--reply``, ``--type``."""
    if not branches:
        raise InvalidInputError("--branch: give at least one branch", field="--branch")
    spec: dict[str, Any] = {"branches": [parallel_branch(b) for b in branches]}
    if reply:
        spec["reply"] = sink(reply, "--reply")
    template = channel_template(channel_type)
    if template:
        spec["channelTemplate"] = template
    return spec


def eventtype_spec(
    event_type: str, source: str | None, reference: str | None, description: str | None
) -> dict[str, Any]:
    """An EventType (v1beta3) spec: ``--type``, ``--source``, ``--reference`` (a sink)."""
    attributes: list[dict[str, Any]] = [
        {"name": "type", "value": event_type, "required": True},
        {"name": "source", "value": source or "", "required": True},
        {"name": "specversion", "value": "1.0", "required": True},
        {"name": "id", "required": True},
    ]
    spec: dict[str, Any] = {"attributes": attributes}
    if reference:
        ref = sink(reference, "--reference").get("ref")
        if ref is None:
            raise InvalidInputError(
                f"--reference {reference!r}: expected broker:NAME, channel:NAME...",
                field="--reference",
            )
        spec["reference"] = ref
    if description:
        spec["description"] = description
    return spec


# -- kn's list rows


def ready_of(obj: Mapping[str, Any]) -> tuple[str, str]:
    """(status, reason) of the Ready condition; ``<unknown>`` without one."""
    for condition in (obj.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Ready":
            return str(condition.get("status") or "<unknown>"), str(condition.get("reason") or "")
    return "<unknown>", ""


def age(timestamp: str | None, now: datetime | None = None) -> str:
    """kn's age: ``45s``, ``12m``, ``3h``, ``2d`` (empty without a timestamp)."""
    if not timestamp:
        return ""
    try:
        created = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return ""
    seconds = max(0, int(((now or datetime.now(UTC)) - created).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def destination_text(destination: Mapping[str, Any] | None) -> str:
    """A Destination as kn prints it: ``ksvc:NAME``, ``broker:NAME``... or its URI."""
    if not destination:
        return ""
    ref = destination.get("ref")
    if ref:
        prefix = {"Service": "ksvc", "Broker": "broker", "Channel": "channel"}.get(
            str(ref.get("kind")), str(ref.get("kind", "")).lower()
        )
        return f"{prefix}:{ref.get('name')}"
    return str(destination.get("uri") or "")


CHANNEL_COLUMNS = ("NAME", "TYPE", "URL", "AGE", "READY", "REASON")
SUBSCRIPTION_COLUMNS = (
    "NAME",
    "CHANNEL",
    "SUBSCRIBER",
    "REPLY",
    "DEAD LETTER SINK",
    "READY",
    "REASON",
)
EVENTTYPE_COLUMNS = ("NAME", "TYPE", "SOURCE", "REFERENCE", "AGE", "READY")
CHANNEL_TYPE_COLUMNS = ("TYPE", "NAME", "DESCRIPTION")
CHANNEL_CATEGORY = "channel"
CHANNEL_DESCRIPTIONS = {
    "InMemoryChannel": "The events are stored in memory",
    "KafkaChannel": "The events are stored in a durable log (Kafka on a cluster)",
}


def channel_row(channel: Mapping[str, Any], now: datetime | None = None) -> list[str]:
    """``kn channel list``: Name, Type (the backing kind), URL, Age, Ready, Reason."""
    meta, spec, status = channel["metadata"], channel.get("spec") or {}, channel.get("status") or {}
    kind = str(channel.get("kind"))
    if kind == "Channel":
        kind = str((spec.get("channelTemplate") or {}).get("kind") or "")
    ready, reason = ready_of(channel)
    url = str((status.get("address") or {}).get("url") or "")
    return [meta["name"], kind, url, age(meta.get("creationTimestamp"), now), ready, reason]


def channel_type_rows(group: str, resources: list[Mapping[str, Any]]) -> list[list[str]]:
    """``kn channel list-types``: Type, Name (the CRD's), Description, for every kind of the
    discovery ``resources`` of ``group`` in the category ``channel`` but the generic Channel
    (a channel type is a kind a Channel's template may name)."""
    rows = []
    for resource in resources:
        kind = str(resource.get("kind") or "")
        plural = str(resource.get("name") or "")
        if "/" in plural or kind == "Channel":  # subresources; the generic Channel
            continue
        if CHANNEL_CATEGORY not in (resource.get("categories") or ()):
            continue
        rows.append([kind, f"{plural}.{group}", CHANNEL_DESCRIPTIONS.get(kind, "")])
    return sorted(rows)


def subscription_row(subscription: Mapping[str, Any]) -> list[str]:
    """``kn subscription list``: Name, Channel, Subscriber, Reply, DLS, Ready, Reason."""
    spec = subscription.get("spec") or {}
    channel = spec.get("channel") or {}
    ready, reason = ready_of(subscription)
    return [
        subscription["metadata"]["name"],
        f"{channel.get('kind')}:{channel.get('name')}",
        destination_text(spec.get("subscriber")),
        destination_text(spec.get("reply")),
        destination_text((spec.get("delivery") or {}).get("deadLetterSink")),
        ready,
        reason,
    ]


def eventtype_row(eventtype: Mapping[str, Any], now: datetime | None = None) -> list[str]:
    """``kn eventtype list``: Name, Type, Source, Reference (Kind:name), Age, Ready."""
    meta, spec = eventtype["metadata"], eventtype.get("spec") or {}
    values = {a.get("name"): a.get("value") or "" for a in spec.get("attributes") or ()}
    reference = spec.get("reference") or {}
    ref_text = f"{reference.get('kind')}:{reference.get('name')}" if reference else ""
    ready, _ = ready_of(eventtype)
    return [
        meta["name"],
        str(values.get("type", "")),
        str(values.get("source", "")),
        ref_text,
        age(meta.get("creationTimestamp"), now),
        ready,
    ]
