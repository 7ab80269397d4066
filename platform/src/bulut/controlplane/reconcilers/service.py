"""Service → Configuration and Route of the same name; Service status from both.

Mirrors Knative's service reconciler: the Configuration carries ``spec.template``, the
Route the traffic block (targets without a revisionName point at the Configuration),
and the Service's conditions mirror the children's Ready (§2.7).
"""

from __future__ import annotations

from typing import Any

from bulut.manifests.feed import Resource

from ..addresses import Addressing
from ..conditions import find, mark, mark_ready_from, mirror
from ..patching import clone
from .ownership import Objects, is_controlled_by, upsert_child

SERVICE_LABEL = "serving.knative.dev/service"
SERVICE_UID_LABEL = "serving.knative.dev/serviceUID"
OUT_OF_DATE = "The Configuration is still working to reflect the latest desired specification."
NOT_MIGRATED = "Traffic is not yet migrated to the latest revision."


def reconcile_children(service: Resource, objects: Objects, addressing: Addressing) -> None:
    """Create or update the Service's Configuration and Route in ``objects``."""
    meta = service["metadata"]
    name = meta["name"]
    labels = {**(meta.get("labels") or {}), SERVICE_LABEL: name, SERVICE_UID_LABEL: meta["uid"]}
    annotations = dict(meta.get("annotations") or {})
    spec = service.get("spec") or {}
    upsert_child(
        objects,
        service,
        "Configuration",
        name,
        labels=labels,
        annotations=annotations,
        spec={"template": clone(spec.get("template") or {})},
        addressing=addressing,
    )
    traffic = [_route_target(t, name) for t in spec.get("traffic") or []]
    upsert_child(
        objects,
        service,
        "Route",
        name,
        labels=labels,
        annotations=annotations,
        spec={"traffic": traffic},
        addressing=addressing,
    )


def _route_target(target: dict[str, Any], service_name: str) -> dict[str, Any]:
    result = clone(target)
    if not result.get("revisionName"):
        result["configurationName"] = service_name
    return result


def reconcile_status(service: Resource, objects: Objects, addressing: Addressing) -> Resource:
    """The Service with its status derived from its Configuration and Route."""
    now = addressing.now()
    result = clone(service)
    meta = result["metadata"]
    name = meta["name"]
    status: dict[str, Any] = clone(result.get("status") or {})
    status["observedGeneration"] = meta.get("generation", 1)
    config, route = objects.get(("Configuration", name)), objects.get(("Route", name))
    if config is not None and not is_controlled_by(config, service):
        message = f'There is an existing Configuration "{name}" that we do not own.'
        mark(status, "ConfigurationsReady", "False", "NotOwned", message, now=now)
    elif config is not None:
        _propagate_configuration(status, config, now)
    else:
        mark(status, "ConfigurationsReady", "Unknown", now=now)
    if route is not None and not is_controlled_by(route, service):
        message = f'There is an existing Route "{name}" that we do not own.'
        mark(status, "RoutesReady", "False", "NotOwned", message, now=now)
    elif route is not None:
        _propagate_route(status, route, config, service, now)
    else:
        mark(status, "RoutesReady", "Unknown", now=now)
    mark_ready_from(status, ["ConfigurationsReady", "RoutesReady"], now=now)
    result["status"] = status
    return result


def _propagate_configuration(status: dict[str, Any], config: Resource, now: str) -> None:
    cstatus = config.get("status") or {}
    for key in ("latestCreatedRevisionName", "latestReadyRevisionName"):
        if cstatus.get(key):
            status[key] = cstatus[key]
        else:
            status.pop(key, None)
    if cstatus.get("observedGeneration") != config["metadata"].get("generation"):
        mark(status, "ConfigurationsReady", "Unknown", "OutOfDate", OUT_OF_DATE, now=now)
        return
    mirror(status, "ConfigurationsReady", config, now=now)


def _propagate_route(
    status: dict[str, Any], route: Resource, config: Resource | None, service: Resource, now: str
) -> None:
    rstatus = route.get("status") or {}
    for key in ("url", "address", "traffic"):
        if rstatus.get(key) is not None:
            status[key] = clone(rstatus[key])
        else:
            status.pop(key, None)
    if rstatus.get("observedGeneration") != route["metadata"].get("generation"):
        message = "The Route is still working to reflect the latest desired specification."
        mark(status, "RoutesReady", "Unknown", "OutOfDate", message, now=now)
        return
    mirror(status, "RoutesReady", route, now=now)
    latest_ready = ((config or {}).get("status") or {}).get("latestReadyRevisionName")
    wants_latest = any(
        t.get("latestRevision") for t in (service.get("spec") or {}).get("traffic") or []
    )
    routed = {
        t.get("revisionName") for t in rstatus.get("traffic") or [] if t.get("latestRevision")
    }
    ready = find(status, "RoutesReady") or {}
    migrated = not routed or routed == {latest_ready}
    if wants_latest and latest_ready and not migrated and ready.get("status") == "True":
        mark(status, "RoutesReady", "Unknown", "TrafficNotMigrated", NOT_MIGRATED, now=now)
