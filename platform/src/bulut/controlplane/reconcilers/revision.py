"""Revision status: initial Deploying conditions, runtime reports, derived Ready.

Ready = ResourcesAvailable ∧ ContainerHealthy; ``Active`` is informational (§2.7).
Runtime reports (docs/architecture.md) upsert conditions, set desired/actual replicas
and keep everything else under ``status.bulut``. Of a Revision the namespace's other
reconcilers read its metadata (labels, owners, generation) and its Ready condition
(:func:`read_by_reconcilers`): a report that changes neither needs no reconcile of the
namespace (:func:`bulut.controlplane.reconcilers.reports.reconciles`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulut.errors import InvalidInputError
from bulut.manifests.feed import Resource

from ..conditions import find, mark, mark_ready_from
from ..patching import clone

DEPENDENTS = ("ResourcesAvailable", "ContainerHealthy")
_CORE_REPORT_KEYS = frozenset({"conditions", "desiredScale", "actualScale"})
_SCALE_KEYS = ("desiredScale", "actualScale", "readyInstances")
_CONDITION_TEXT = ("status", "reason", "message")
MAX_REPORTED_SCALE = 2**31 - 1
# Status fields of a Revision that no reconciler reads: the runtime's own picture.
RUNTIME_STATUS = frozenset({"bulut"})
REPLICA_COUNTS = frozenset({"desiredReplicas", "actualReplicas"})


def check_report(runtime: Mapping[str, Any]) -> None:
    """Refuse a runtime report the status cannot hold, naming the field (``runtime.*``)."""
    for key in _SCALE_KEYS:
        value = runtime.get(key)
        if value is not None and (type(value) is not int or not 0 <= value <= MAX_REPORTED_SCALE):
            raise InvalidInputError(
                f"runtime.{key} must be an integer from 0 to {MAX_REPORTED_SCALE}, "
                f"got {value!r:.40}",
                field=f"runtime.{key}",
            )
    conditions = runtime.get("conditions")
    if conditions is None:
        return
    if not isinstance(conditions, list):
        raise InvalidInputError(
            "runtime.conditions must be a list of conditions", field="runtime.conditions"
        )
    for index, condition in enumerate(conditions):
        where = f"runtime.conditions[{index}]"
        if not isinstance(condition, Mapping):
            raise InvalidInputError(f"{where} must be an object", field=where)
        if not isinstance(condition.get("type"), str) or not condition["type"]:
            raise InvalidInputError(
                f"{where}.type must be a non-empty string", field=f"{where}.type"
            )
        for key in _CONDITION_TEXT:
            if condition.get(key) is not None and not isinstance(condition[key], str):
                raise InvalidInputError(f"{where}.{key} must be a string", field=f"{where}.{key}")


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
    """Merge one runtime report into the revision's status (:func:`check_report` first)."""
    check_report(runtime)
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


def read_by_reconcilers(revision: Resource) -> tuple[Any, ...]:
    """What the namespace's reconcilers may read of a revision: everything but the runtime's
    own picture (``status.bulut``), the replica counts and the informational conditions
    (``Active``: severity Info, outside Ready).

    The Configuration reads its Ready condition (latestReadyRevisionName, its failure
    message), the Route its Ready status (traffic), ownership and routing state its
    metadata. The dependents of Ready (ResourcesAvailable, ContainerHealthy) are kept in
    too, though only Ready is read today: a report changing readiness still reconciles.
    No reconciler reads ``desiredReplicas``/``actualReplicas`` (as in Knative, where only
    the Revision mirrors its PodAutoscaler's scale), so a scale report is stored alone.
    """
    status = revision.get("status") or {}
    kept = {
        key: value
        for key, value in status.items()
        if key not in RUNTIME_STATUS and key not in REPLICA_COUNTS
    }
    kept["conditions"] = [
        condition
        for condition in status.get("conditions") or []
        if condition.get("type") in DEPENDENTS or condition.get("type") == "Ready"
    ]
    return revision.get("metadata"), revision.get("spec"), kept
