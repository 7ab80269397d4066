"""EventPolicy (eventing.knative.dev/v1alpha1): the subjects its ``spec.from`` allows.

As Knative's EventPolicy reconciler does, ``status.from`` lists the OIDC subjects the policy
lets in: a ``sub`` as written (a trailing ``*`` matches any suffix), and for a ``ref`` the
identity of that sender, ``system:serviceaccount:<ns>:<status.auth.serviceAccountName>`` of
the object when it is in this namespace and has one (a ContainerSource sends as its
SinkBinding), else the OIDC ServiceAccount Knative names after it
(``<name>-oidc-<group>-<kind>``). ``SubjectsResolved`` and ``Ready`` are True once every
entry resolved. The data plane's edge enforces the policy (bulut.eventing.policies).
"""

from __future__ import annotations

from typing import Any

from bulut.edge.identity import for_resource
from bulut.manifests.feed import Resource

from ..addresses import Addressing
from ..conditions import mark, mark_ready_from
from ..patching import clone
from .ownership import Objects

DEPENDENTS = ("SubjectsResolved",)


def resolve_subject(entry: dict[str, Any], namespace: str, objects: Objects) -> str | None:
    """The subject (or pattern) one ``spec.from`` entry allows; None when it names none."""
    if entry.get("sub"):
        return str(entry["sub"])
    ref = entry.get("ref") or {}
    kind, name = ref.get("kind"), ref.get("name")
    if not kind or not name:
        return None
    where = str(ref.get("namespace") or namespace)
    found = objects.get((str(kind), str(name))) if where == namespace else None
    account = (((found or {}).get("status") or {}).get("auth") or {}).get("serviceAccountName")
    if account:
        return f"system:serviceaccount:{where}:{account}"
    return for_resource(str(kind), str(ref.get("apiVersion") or ""), where, str(name)).subject


def reconcile_eventpolicy(policy: Resource, objects: Objects, addressing: Addressing) -> Resource:
    """``status.from`` and the SubjectsResolved/Ready conditions."""
    now = addressing.now()
    result = clone(policy)
    status: dict[str, Any] = clone(result.get("status") or {})
    status["observedGeneration"] = result["metadata"].get("generation", 1)
    namespace = str(result["metadata"].get("namespace") or "default")
    entries = (result.get("spec") or {}).get("from") or []
    subjects = [resolve_subject(dict(entry), namespace, objects) for entry in entries]
    unresolved = [i for i, subject in enumerate(subjects) if subject is None]
    status["from"] = [subject for subject in subjects if subject is not None]
    if unresolved:
        message = ", ".join(f"spec.from[{i}]" for i in unresolved) + " names no subject"
        mark(status, "SubjectsResolved", "False", "SubjectsNotResolved", message, now=now)
    else:
        mark(status, "SubjectsResolved", "True", now=now)
    mark_ready_from(status, list(DEPENDENTS), now=now)
    result["status"] = status
    return result
