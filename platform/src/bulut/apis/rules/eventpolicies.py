"""eventing.knative.dev/v1alpha1 EventPolicy: webhook rules (Knative's eventpolicy_validation).

``spec.to`` entries need exactly one of ``ref`` (apiVersion, kind, name) and ``selector``
(apiVersion, kind); ``spec.from`` needs at least one entry, each exactly one of ``ref``
(apiVersion, kind, name) and ``sub`` (a ``*`` only at its end). ``spec.filters`` (CloudEvent
filters a policy adds) are refused locally: the local edge decides on the sender before it
reads the event, and a policy enforced without its filters would let in more than written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .meta import validate_metadata
from .paths import fail, list_at, mapping_at


def _one_of(entry: Mapping[str, Any], names: tuple[str, str], path: str) -> str:
    present = [name for name in names if entry.get(name) not in (None, "", {})]
    if len(present) != 1:
        fail(f"expected exactly one of {names[0]} or {names[1]}", path)
    return present[0]


def _required(ref: Mapping[str, Any], fields: tuple[str, ...], path: str) -> None:
    for name in fields:
        if not isinstance(ref.get(name), str) or not ref.get(name):
            fail("missing field(s)", f"{path}.{name}")


def validate_eventpolicy(resource: Mapping[str, Any]) -> None:
    """An EventPolicy: targets and senders well formed; no filters."""
    validate_metadata(resource, dns1035=False)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    for index, item in enumerate(list_at(spec.get("to"), "spec.to")):
        path = f"spec.to[{index}]"
        entry = mapping_at(item, path, required=True)
        which = _one_of(entry, ("ref", "selector"), path)
        target = mapping_at(entry.get(which), f"{path}.{which}", required=True)
        fields = ("apiVersion", "kind", "name") if which == "ref" else ("apiVersion", "kind")
        _required(target, fields, f"{path}.{which}")
    senders = list_at(spec.get("from"), "spec.from")
    if not senders:
        fail("at least one sender is required", "spec.from")
    for index, item in enumerate(senders):
        path = f"spec.from[{index}]"
        entry = mapping_at(item, path, required=True)
        if _one_of(entry, ("ref", "sub"), path) == "ref":
            ref = mapping_at(entry.get("ref"), f"{path}.ref", required=True)
            _required(ref, ("apiVersion", "kind", "name"), f"{path}.ref")
        else:
            sub = entry.get("sub")
            if not isinstance(sub, str) or "*" in sub[:-1]:
                fail("a '*' may only end the subject", f"{path}.sub")
    if spec.get("filters"):
        fail(
            "EventPolicy filters are not enforced by the local platform; "
            "remove them locally (a cluster's Knative evaluates them)",
            "spec.filters",
        )
