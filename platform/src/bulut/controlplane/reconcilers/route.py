"""Route status: traffic resolved to ready revisions, URLs, and Knative's reasons.

A target naming a Configuration follows its latestReadyRevisionName; a target with no
ready revision stays out of ``status.traffic`` and sets AllTrafficAssigned with
reason RevisionMissing or ConfigurationMissing, Unknown while waiting, False on failure.
"""

from __future__ import annotations

from typing import Any

from bulut.manifests.feed import Resource

from ..addresses import Addressing
from ..conditions import ConditionStatus, mark, mark_ready_from, status_of
from ..patching import clone
from .configuration import ROUTING_STATE_LABEL
from .ownership import Objects, of_kind

DEPENDENTS = ("AllTrafficAssigned", "IngressReady", "CertificateProvisioned")
Problem = tuple[ConditionStatus, str, str]


def resolve_target(
    target: dict[str, Any], objects: Objects
) -> tuple[dict[str, Any] | None, Problem | None]:
    """(resolved status target, None) or (None, (status, reason, message))."""
    resolved: dict[str, Any] = {}
    if target.get("tag"):
        resolved["tag"] = target["tag"]
    config_name, revision = target.get("configurationName"), target.get("revisionName")
    if config_name and not revision:
        config = objects.get(("Configuration", config_name))
        if config is None:
            return None, (
                "False",
                "ConfigurationMissing",
                f'Configuration "{config_name}" referenced in traffic not found.',
            )
        latest = (config.get("status") or {}).get("latestReadyRevisionName")
        if not latest:
            if status_of(config) == "False":
                message = f'Configuration "{config_name}" does not have any ready Revision.'
                return None, ("False", "RevisionMissing", message)
            message = f'Configuration "{config_name}" is waiting for a Revision to become ready.'
            return None, ("Unknown", "RevisionMissing", message)
        resolved.update(revisionName=latest, latestRevision=True)
    else:
        rev = objects.get(("Revision", str(revision)))
        if rev is None:
            return None, (
                "False",
                "RevisionMissing",
                f'Revision "{revision}" referenced in traffic not found.',
            )
        state = status_of(rev)
        if state == "False":
            return None, (
                "False",
                "RevisionMissing",
                f'Revision "{revision}" failed to become ready.',
            )
        if state == "Unknown":
            return None, ("Unknown", "RevisionMissing", f'Revision "{revision}" is not yet ready.')
        resolved.update(revisionName=revision, latestRevision=False)
    resolved["percent"] = int(target.get("percent") or 0)
    return resolved, None


def reconcile_status(route: Resource, objects: Objects, addressing: Addressing) -> Resource:
    """The Route with status.url, address, resolved traffic and conditions."""
    now = addressing.now()
    result = clone(route)
    meta = result["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    status: dict[str, Any] = clone(result.get("status") or {})
    status["observedGeneration"] = meta.get("generation", 1)
    url = addressing.service_url(name, namespace)
    status["url"] = url
    status["address"] = {"url": url}
    traffic: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for target in (result.get("spec") or {}).get("traffic") or []:
        resolved, problem = resolve_target(target, objects)
        if problem is not None:
            problems.append(problem)
            continue
        assert resolved is not None
        if resolved.get("tag"):
            resolved["url"] = addressing.tag_url(resolved["tag"], name, namespace)
        traffic.append(resolved)
    status["traffic"] = traffic
    _mark_traffic(status, problems, now)
    mark_ready_from(status, list(DEPENDENTS), now=now)
    result["status"] = status
    return result


def _mark_traffic(status: dict[str, Any], problems: list[Problem], now: str) -> None:
    failed = [p for p in problems if p[0] == "False"]
    problem = failed[0] if failed else (problems[0] if problems else None)
    if problem is None:
        mark(status, "AllTrafficAssigned", "True", now=now)
        mark(status, "IngressReady", "True", now=now)
    else:
        mark(status, "AllTrafficAssigned", problem[0], problem[1], problem[2], now=now)
        if _status(status, "IngressReady") != "True":
            mark(status, "IngressReady", "Unknown", now=now)  # not reconciled while waiting
    mark(
        status, "CertificateProvisioned", "True", "TLSNotEnabled", "autoTLS is not enabled", now=now
    )


def _status(status: dict[str, Any], type_: str) -> str:
    for cond in status.get("conditions") or []:
        if cond.get("type") == type_:
            return str(cond.get("status"))
    return "Unknown"


def update_routing_state(objects: Objects) -> None:
    """Label revisions active (routed), reserve (was routed) or pending (never routed)."""
    routed = {
        t.get("revisionName")
        for route in of_kind(objects, "Route")
        for t in (route.get("status") or {}).get("traffic") or []
    }
    for rev in of_kind(objects, "Revision"):
        labels = rev["metadata"].setdefault("labels", {})
        current = labels.get(ROUTING_STATE_LABEL, "pending")
        if rev["metadata"]["name"] in routed:
            labels[ROUTING_STATE_LABEL] = "active"
        elif current in ("active", "reserve"):
            labels[ROUTING_STATE_LABEL] = "reserve"
        else:
            labels[ROUTING_STATE_LABEL] = "pending"
