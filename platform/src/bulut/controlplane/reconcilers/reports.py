"""Runtime reports: what the data plane says it runs, merged into a resource's status.

A Revision's report has its own rules (:mod:`.revision`). Any other kind takes the
reported conditions (kept until the next report) and the status fields its data plane
owns: an ApiServerSource's ``namespaces`` (from its namespace selector), a JobSink's
``jobs`` (its recent runs, which also become its batch/v1 Jobs: :func:`runtime_children`).

Each report used to re-reconcile its whole namespace. A Revision's report that changes
nothing the reconcilers read of it (:func:`reconciles`: the runtime's picture under
``status.bulut``, the replica counts, the ``Active`` condition) is stored alone (ADR 0032).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulut.manifests.feed import Resource

from ..addresses import Addressing
from ..conditions import mark
from ..patching import clone
from . import revision, sinks
from .ownership import Objects

REPORTED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "ApiServerSource": ("namespaces",),
    "JobSink": ("jobs",),
}


def apply_runtime_report(
    kind: str, resource: Resource, runtime: Mapping[str, Any], *, now: str
) -> Resource:
    """``resource`` with one runtime report merged (:func:`revision.check_report` first)."""
    if kind == "Revision":
        return revision.apply_report(resource, runtime, now=now)
    revision.check_report(runtime)
    result = clone(resource)
    status: dict[str, Any] = clone(result.get("status") or {})
    for condition in runtime.get("conditions") or []:
        value = condition.get("status", "Unknown")
        mark(
            status,
            str(condition["type"]),
            value if value in ("True", "False") else "Unknown",
            str(condition.get("reason") or ""),
            str(condition.get("message") or ""),
            now=now,
        )
    for key in REPORTED_FIELDS.get(kind, ()):
        if key in runtime:
            status[key] = clone(runtime[key])
    result["status"] = status
    return result


def runtime_children(
    kind: str,
    resource: Resource,
    runtime: Mapping[str, Any],
    objects: Objects,
    addressing: Addressing,
) -> Objects:
    """Objects a report makes or updates besides ``resource``: a JobSink's reported runs
    are its batch/v1 Jobs (:func:`bulut.controlplane.reconcilers.sinks.run_jobs`)."""
    if kind == "JobSink" and "jobs" in runtime:
        return sinks.run_jobs(resource, runtime.get("jobs") or [], objects, addressing)
    return {}


def reconciles(kind: str, current: Resource, reported: Resource) -> bool:
    """Whether storing ``reported`` in place of ``current`` must re-reconcile the namespace:
    always for kinds other than Revision; for a Revision, when what the reconcilers read
    of it changed (:func:`revision.read_by_reconcilers`: readiness, spec, metadata)."""
    if kind != "Revision":
        return True
    return revision.read_by_reconcilers(current) != revision.read_by_reconcilers(reported)
