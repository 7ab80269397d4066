"""Knative conditions over plain status dicts.

Knative's "living condition set": a resource is Ready when every dependent condition is
True, not Ready (False) when any is False, and Unknown otherwise. ``lastTransitionTime``
changes only when a condition's status changes, so reconciling twice is a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

ConditionStatus = Literal["True", "False", "Unknown"]
Condition = dict[str, str]


def find(status: Mapping[str, Any], type_: str) -> Condition | None:
    """The condition of this type in a status, if any."""
    for cond in status.get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return None


def status_of(resource: Mapping[str, Any], type_: str = "Ready") -> ConditionStatus:
    """ "True", "False" or "Unknown" (missing counts as Unknown)."""
    cond = find(resource.get("status") or {}, type_)
    value = cond.get("status") if cond else None
    return value if value in ("True", "False") else "Unknown"  # type: ignore[return-value]


def is_ready(resource: Mapping[str, Any]) -> bool:
    """Ready=True."""
    return status_of(resource) == "True"


def mark(
    status: dict[str, Any],
    type_: str,
    value: ConditionStatus,
    reason: str = "",
    message: str = "",
    *,
    now: str,
    severity: str = "",
) -> None:
    """Set one condition in place, keeping lastTransitionTime when the status is unchanged."""
    conditions: list[Condition] = [dict(c) for c in status.get("conditions") or []]
    previous = next((c for c in conditions if c.get("type") == type_), None)
    new: Condition = {"type": type_, "status": value}
    if severity:
        new["severity"] = severity
    if reason:
        new["reason"] = reason
    if message:
        new["message"] = message
    if previous is not None and previous.get("status") == value:
        new["lastTransitionTime"] = previous.get("lastTransitionTime", now)
    else:
        new["lastTransitionTime"] = now
    others = [c for c in conditions if c.get("type") != type_]
    status["conditions"] = sorted([*others, new], key=lambda c: c["type"])


def mark_ready_from(
    status: dict[str, Any], dependents: Sequence[str], *, now: str, happy: str = "Ready"
) -> None:
    """Derive the happy condition from its dependents (living condition set)."""
    conds = [find(status, type_) or {"type": type_, "status": "Unknown"} for type_ in dependents]
    failed = next((c for c in conds if c.get("status") == "False"), None)
    if failed is not None:
        mark(status, happy, "False", failed.get("reason", ""), failed.get("message", ""), now=now)
        return
    unknowns = [c for c in conds if c.get("status") != "True"]
    if unknowns:
        # Knative's happy condition carries the reason of the dependent marked last.
        unknown = next((c for c in reversed(unknowns) if c.get("reason")), unknowns[0])
        reason, message = unknown.get("reason", ""), unknown.get("message", "")
        mark(status, happy, "Unknown", reason, message, now=now)
        return
    mark(status, happy, "True", now=now)


def mirror(
    status: dict[str, Any],
    type_: str,
    source: Mapping[str, Any] | None,
    *,
    now: str,
    missing: tuple[str, str] = ("", ""),
) -> None:
    """Copy another resource's Ready condition into ``type_`` (status, reason, message)."""
    if source is None:
        mark(status, type_, "Unknown", missing[0], missing[1], now=now)
        return
    ready = find(source.get("status") or {}, "Ready") or {}
    value = ready.get("status", "Unknown")
    value = value if value in ("True", "False") else "Unknown"
    mark(status, type_, value, ready.get("reason", ""), ready.get("message", ""), now=now)  # type: ignore[arg-type]
