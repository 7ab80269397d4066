"""EventType status: ``ReferenceExists`` (= Ready), as knative/eventing's eventtype
reconciler reports it (reference knative-kinds §9.1)."""

from __future__ import annotations

from bulut.manifests.feed import Resource

from ..addresses import Addressing
from ..conditions import mark, mark_ready_from
from .messaging import start_status
from .ownership import Objects, of_kind


def reconcile_eventtype(eventtype: Resource, objects: Objects, addressing: Addressing) -> Resource:
    """True when the referenced object exists; True "ReferenceNotSet" without a reference."""
    now = addressing.now()
    result, status = start_status(eventtype)
    reference = (result.get("spec") or {}).get("reference") or {}
    if not reference:
        mark(status, "ReferenceExists", "True", "ReferenceNotSet", now=now)
    elif (str(reference.get("kind")), str(reference.get("name"))) in objects:
        mark(status, "ReferenceExists", "True", now=now)
    else:
        message = (
            f"Referenced {reference.get('kind')} {reference.get('namespace') or ''}/"
            f"{reference.get('name')} does not exist"
        )
        mark(status, "ReferenceExists", "False", "ResourceDoesNotExist", message, now=now)
    mark_ready_from(status, ["ReferenceExists"], now=now)
    result["status"] = status
    return result


def reconcile_eventtypes(objects: Objects, addressing: Addressing) -> None:
    """Every EventType of the namespace."""
    for eventtype in of_kind(objects, "EventType"):
        name = eventtype["metadata"]["name"]
        objects[("EventType", name)] = reconcile_eventtype(eventtype, objects, addressing)
