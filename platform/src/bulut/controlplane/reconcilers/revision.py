"""Revision status: initial Deploying conditions, runtime reports, derived Ready.

Ready = ResourcesAvailable ∧ ContainerHealthy; ``Active`` is informational (§2.7).
Runtime reports (docs/architecture.md) upsert conditions, set desired/actual replicas
and keep everything else under ``status.bulut``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulut.manifests.feed import Resource

from ..conditions import find, mark, mark_ready_from
from ..patching import clone

DEPENDENTS = ("ResourcesAvailable", "ContainerHealthy")
_CORE_REPORT_KEYS = frozenset({"conditions", "desiredScale", "actualScale"})


def reconcile_status(revision: Resource, *, now: str) -> Resource:
    """The revision with Deploying conditions where none were reported, and Ready derived."""
    result = clone(revision)
    status: dict[str, Any] = clone(result.get("status") or {})
    status["observedGeneration"] = result["metadata"].get("generation", 1)
    for type_ in DEPENDENTS:
        if find(status, type_) is None:
            mark(status, type_, "Unknown", "Deploying", now=now)
    mark_ready_from(status, list(DEPENDENTS), now=now)
    container = ((result.get("spec") or {}).get("containers") or [{}])[0]
    status.setdefault("containerStatuses", [{"name": container.get("name", "user-container")}])
    result["status"] = status
    return result


def apply_report(revision: Resource, runtime: Mapping[str, Any], *, now: str) -> Resource:
    """Merge one runtime report into the revision's status."""
    result = clone(revision)
    status: dict[str, Any] = clone(result.get("status") or {})
    for cond in runtime.get("conditions") or []:
        value = cond.get("status", "Unknown")
        if value not in ("True", "False", "Unknown"):
            value = "Unknown"
        mark(
            status,
            str(cond["type"]),
            value,
            str(cond.get("reason") or ""),
            str(cond.get("message") or ""),
            now=now,
            severity="Info" if cond["type"] not in DEPENDENTS else "",
        )
    if "desiredScale" in runtime:
        status["desiredReplicas"] = int(runtime["desiredScale"])
    if "actualScale" in runtime:
        status["actualReplicas"] = int(runtime["actualScale"])
    extras = {k: clone(v) for k, v in runtime.items() if k not in _CORE_REPORT_KEYS}
    if extras:
        status["bulut"] = extras  # the latest report is the whole current picture
    else:
        status.pop("bulut", None)
    result["status"] = status
    return reconcile_status(result, now=now)
