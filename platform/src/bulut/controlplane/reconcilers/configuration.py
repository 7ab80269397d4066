"""Configuration → one Revision per generation of ``spec.template``; Configuration status.

Revision names are ``<configuration>-<generation, 5 digits>`` unless the template brings
its own name (§2.1). latestReadyRevisionName only moves forward, to the newest Ready
revision; Ready mirrors whether the latest created revision is the latest ready one.
"""

from __future__ import annotations

from typing import Any

from bulut.manifests.feed import Resource

from ..addresses import Addressing
from ..conditions import find, mark, status_of
from ..patching import clone
from .ownership import Objects, child_name, of_kind, upsert_child
from .service import SERVICE_LABEL, SERVICE_UID_LABEL

CONFIGURATION_LABEL = "serving.knative.dev/configuration"
GENERATION_LABEL = "serving.knative.dev/configurationGeneration"
CONFIGURATION_UID_LABEL = "serving.knative.dev/configurationUID"
ROUTING_STATE_LABEL = "serving.knative.dev/routingState"


def revision_name(config: Resource) -> str:
    """The name of the revision for the configuration's current generation."""
    template = (config.get("spec") or {}).get("template") or {}
    byo = (template.get("metadata") or {}).get("name")
    if byo:
        return str(byo)
    generation = int(config["metadata"].get("generation", 1))
    return child_name(config["metadata"]["name"], f"-{generation:05d}")


def index_revisions(objects: Objects) -> dict[str, list[Resource]]:
    """Revisions by the configuration that created them, oldest generation first."""
    index: dict[str, list[Resource]] = {}
    for rev in of_kind(objects, "Revision"):
        owner = (rev["metadata"].get("labels") or {}).get(CONFIGURATION_LABEL)
        if owner:
            index.setdefault(owner, []).append(rev)
    for revisions in index.values():
        revisions.sort(key=_generation_of)
    return index


def _generation_of(revision: Resource) -> int:
    labels = revision["metadata"].get("labels") or {}
    try:
        return int(labels.get(GENERATION_LABEL, "0"))
    except ValueError:
        return 0


def ensure_revision(
    config: Resource, revisions: list[Resource], objects: Objects, addressing: Addressing
) -> Resource | None:
    """Stamp the revision for the current generation if it does not exist yet."""
    meta = config["metadata"]
    generation = str(meta.get("generation", 1))
    for rev in revisions:
        if (rev["metadata"].get("labels") or {}).get(GENERATION_LABEL) == generation:
            return rev
    name = revision_name(config)
    if ("Revision", name) in objects:
        return None  # the name is taken (BYO name reused): Knative refuses, so do we
    template = (config.get("spec") or {}).get("template") or {}
    tmeta = template.get("metadata") or {}
    labels: dict[str, str] = {
        **(tmeta.get("labels") or {}),
        CONFIGURATION_LABEL: meta["name"],
        GENERATION_LABEL: generation,
        CONFIGURATION_UID_LABEL: meta["uid"],
        ROUTING_STATE_LABEL: "pending",
    }
    config_labels = meta.get("labels") or {}
    for key in (SERVICE_LABEL, SERVICE_UID_LABEL):
        labels[key] = config_labels.get(key, "")
    return upsert_child(
        objects,
        config,
        "Revision",
        name,
        labels=labels,
        annotations=dict(tmeta.get("annotations") or {}),
        spec=clone(template.get("spec") or {}),
        addressing=addressing,
    )


def reconcile_status(
    config: Resource, revisions: list[Resource], addressing: Addressing
) -> Resource:
    """latestCreated/latestReady revision names, observedGeneration and Ready."""
    now = addressing.now()
    result = clone(config)
    status: dict[str, Any] = clone(result.get("status") or {})
    status["observedGeneration"] = result["metadata"].get("generation", 1)
    by_name = {rev["metadata"]["name"]: rev for rev in revisions}
    created = _latest_created(config, revisions)
    if created is None:
        mark(status, "Ready", "Unknown", now=now)
        result["status"] = status
        return result
    created_name = created["metadata"]["name"]
    status["latestCreatedRevisionName"] = created_name
    ready_name = _latest_ready(status.get("latestReadyRevisionName"), revisions, by_name)
    if ready_name:
        status["latestReadyRevisionName"] = ready_name
    else:
        status.pop("latestReadyRevisionName", None)
    created_state = status_of(created)
    if created_state == "True":
        mark(status, "Ready", "True", now=now)
    elif created_state == "False":
        failed = find(created.get("status") or {}, "Ready") or {}
        message = f'Revision "{created_name}" failed with message: {failed.get("message", "")}.'
        mark(status, "Ready", "False", "RevisionFailed", message, now=now)
    else:
        mark(status, "Ready", "Unknown", now=now)
    result["status"] = status
    return result


def _latest_created(config: Resource, revisions: list[Resource]) -> Resource | None:
    generation = str(config["metadata"].get("generation", 1))
    for rev in reversed(revisions):
        if (rev["metadata"].get("labels") or {}).get(GENERATION_LABEL) == generation:
            return rev
    return revisions[-1] if revisions else None


def _latest_ready(
    current: str | None, revisions: list[Resource], by_name: dict[str, Resource]
) -> str | None:
    floor = _generation_of(by_name[current]) if current in by_name else 0
    for rev in reversed(revisions):
        if _generation_of(rev) < floor:
            break
        if status_of(rev) == "True":
            return str(rev["metadata"]["name"])
    return current if current in by_name else None
