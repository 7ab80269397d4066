"""The event topology: where events go, from every kind that sends or routes them (pure).

One :class:`Path` per hop a user configured: a source to its sink (any kind with a
``spec.sink``: PingSource and every other source kind, generically), a SinkBinding's
subject to its sink, a Broker through a Trigger to its subscriber, a channel through a
Subscription to its subscriber (and reply), a Sequence through its steps, a Parallel through
each branch. Subscriptions a flow owns are shown as the flow, not one by one. The event
catalogue groups EventTypes by the Broker or channel that received them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

FLOW_KINDS = frozenset({"Sequence", "Parallel"})
_PREFIXES = {"Service": "ksvc", "Broker": "broker", "Channel": "channel"}


@dataclass(frozen=True, slots=True)
class Path:
    """One configured hop of the event path."""

    namespace: str
    source: str
    through: str
    target: str


def destination_text(destination: Mapping[str, Any] | None) -> str:
    """``ksvc:orders``, ``broker:default``, ``sequence:enrich`` or the URI."""
    if not destination:
        return ""
    ref = destination.get("ref")
    if isinstance(ref, Mapping):
        kind = str(ref.get("kind") or "")
        text = f"{_PREFIXES.get(kind, kind.lower())}:{ref.get('name')}"
        uri = destination.get("uri")
        return f"{text}{uri}" if uri else text
    return str(destination.get("uri") or "")


def _meta(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _owned_by_flow(obj: Mapping[str, Any]) -> bool:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return any(ref.get("kind") in FLOW_KINDS for ref in refs)


def _with_reply(target: str, reply: Mapping[str, Any] | None) -> str:
    text = destination_text(reply)
    return f"{target} → reply {text}" if text else target


def source_paths(sources: Iterable[Mapping[str, Any]]) -> list[Path]:
    """Every object with a ``spec.sink``: source → sink (SinkBinding: subject → sink)."""
    paths = []
    for obj in sources:
        spec = obj.get("spec") or {}
        if not isinstance(spec.get("sink"), Mapping):
            continue
        namespace, name = _meta(obj)
        kind = str(obj.get("kind"))
        subject = spec.get("subject")
        if kind == "SinkBinding" and isinstance(subject, Mapping):
            origin = f"{subject.get('kind')} {subject.get('name') or '(selector)'}"
            paths.append(
                Path(namespace, origin, f"SinkBinding {name}", destination_text(spec["sink"]))
            )
        else:
            paths.append(Path(namespace, f"{kind} {name}", "", destination_text(spec["sink"])))
    return paths


def trigger_paths(triggers: Iterable[Mapping[str, Any]]) -> list[Path]:
    """Broker → Trigger (its filter) → subscriber."""
    paths = []
    for trigger in triggers:
        namespace, name = _meta(trigger)
        spec = trigger.get("spec") or {}
        attributes = (spec.get("filter") or {}).get("attributes") or {}
        shown = ", ".join(f"{k}={v}" for k, v in attributes.items())
        through = f"Trigger {name}" + (f" [{shown}]" if shown else "")
        broker = f"Broker {spec.get('broker', 'default')}"
        paths.append(Path(namespace, broker, through, destination_text(spec.get("subscriber"))))
    return paths


def subscription_paths(subscriptions: Iterable[Mapping[str, Any]]) -> list[Path]:
    """Channel → Subscription → subscriber (→ reply); flows' own subscriptions left out."""
    paths = []
    for subscription in subscriptions:
        if _owned_by_flow(subscription):
            continue
        namespace, name = _meta(subscription)
        spec = subscription.get("spec") or {}
        channel = spec.get("channel") or {}
        target = _with_reply(destination_text(spec.get("subscriber")), spec.get("reply"))
        origin = f"{channel.get('kind')} {channel.get('name')}"
        paths.append(Path(namespace, origin, f"Subscription {name}", target))
    return paths


def flow_paths(
    sequences: Iterable[Mapping[str, Any]], parallels: Iterable[Mapping[str, Any]]
) -> list[Path]:
    """A Sequence through its steps in order; a Parallel through each branch."""
    paths = []
    for sequence in sequences:
        namespace, name = _meta(sequence)
        spec = sequence.get("spec") or {}
        steps = " → ".join(destination_text(step) for step in spec.get("steps") or ())
        paths.append(
            Path(namespace, f"Sequence {name}", "steps", _with_reply(steps, spec.get("reply")))
        )
    for parallel in parallels:
        namespace, name = _meta(parallel)
        spec = parallel.get("spec") or {}
        for index, branch in enumerate(spec.get("branches") or ()):
            through = f"branch {index}"
            if branch.get("filter"):
                through += f" [filter {destination_text(branch['filter'])}]"
            reply = branch.get("reply") or spec.get("reply")
            target = _with_reply(destination_text(branch.get("subscriber")), reply)
            paths.append(Path(namespace, f"Parallel {name}", through, target))
    return paths


def event_paths(
    objects: Mapping[str, Iterable[Mapping[str, Any]]], source_kinds: Iterable[str]
) -> list[Path]:
    """Every configured hop, sources first, by namespace."""
    sources = [obj for kind in sorted(set(source_kinds)) for obj in objects.get(kind, ())]
    paths = [
        *source_paths(sources),
        *trigger_paths(objects.get("Trigger", ())),
        *subscription_paths(objects.get("Subscription", ())),
        *flow_paths(objects.get("Sequence", ()), objects.get("Parallel", ())),
    ]
    return sorted(paths, key=lambda p: p.namespace)


def catalogue(
    eventtypes: Iterable[Mapping[str, Any]],
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """EventTypes by (namespace, ``Kind name`` of their reference): sorted (type, source)."""
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for eventtype in eventtypes:
        namespace, _ = _meta(eventtype)
        spec = eventtype.get("spec") or {}
        reference = spec.get("reference") or {}
        owner = (
            f"{reference.get('kind')} {reference.get('name')}" if reference else "(no reference)"
        )
        values = {a.get("name"): a.get("value") or "" for a in spec.get("attributes") or ()}
        found.setdefault((namespace, owner), []).append(
            (str(values.get("type", "")), str(values.get("source", "")))
        )
    return {key: sorted(items) for key, items in sorted(found.items())}
