"""ApiServerSource and ContainerSource: children, sinks and conditions (reference §6.2, §7).

Knative runs each source as a Deployment; locally the eventing plane runs it (a watch on
this control plane, or a supervised process) and reports whether it runs: the reported
``Deployed`` / ``ReceiveAdapterReady`` conditions stay until the next report, and a source
nothing has reported on yet is Unknown ``DeploymentUnavailable``, as Knative says while its
Deployment is not available.
"""

from __future__ import annotations

from typing import Any

from bulut.manifests.feed import Resource

from ..addresses import Addressing, resolve_destination
from ..conditions import find, mark, mark_ready_from, mirror
from ..patching import clone
from .eventing import OIDC_DISABLED
from .ownership import Objects, child_name, upsert_child

APISERVER_DEPENDENTS = ("Deployed", "OIDCIdentityCreated", "SinkProvided", "SufficientPermissions")
CONTAINER_DEPENDENTS = ("ReceiveAdapterReady", "SinkBindingReady")
EVENT_TYPES = {
    "Reference": (
        "dev.knative.apiserver.ref.add",
        "dev.knative.apiserver.ref.delete",
        "dev.knative.apiserver.ref.update",
    ),
    "Resource": (
        "dev.knative.apiserver.resource.add",
        "dev.knative.apiserver.resource.delete",
        "dev.knative.apiserver.resource.update",
    ),
}
NOT_DEPLOYED = "DeploymentUnavailable"
CONTAINER_SOURCE_LABEL = "sources.knative.dev/containerSource"
CONTAINER_SOURCE_CONTROLLER = ("sources.knative.dev/source", "container-source-controller")


def _start(resource: Resource) -> tuple[Resource, dict[str, Any]]:
    result = clone(resource)
    status: dict[str, Any] = clone(result.get("status") or {})
    status["observedGeneration"] = result["metadata"].get("generation", 1)
    return result, status


def _unless_reported(status: dict[str, Any], type_: str, message: str, now: str) -> None:
    if find(status, type_) is None:
        mark(status, type_, "Unknown", NOT_DEPLOYED, message, now=now)


def _sink(
    status: dict[str, Any], spec: dict[str, Any], namespace: str, objects: Objects, now: str
) -> None:
    sink = spec.get("sink")
    if not sink:
        status.pop("sinkUri", None)
        mark(status, "SinkProvided", "False", "SinkEmpty", "Sink has resolved to empty.", now=now)
        return
    uri, why = resolve_destination(sink, namespace, objects)
    if uri is None:
        status.pop("sinkUri", None)
        mark(status, "SinkProvided", "False", "NotFound", why, now=now)
    else:
        status["sinkUri"] = uri
        mark(status, "SinkProvided", "True", now=now)


def reconcile_apiserversource(
    source: Resource, objects: Objects, addressing: Addressing
) -> Resource:
    """sinkUri, namespaces, ceAttributes and SinkProvided/Deployed/SufficientPermissions."""
    now = addressing.now()
    result, status = _start(source)
    spec = result.get("spec") or {}
    namespace = result["metadata"]["namespace"]
    _sink(status, spec, namespace, objects, now)
    if spec.get("namespaceSelector") is None:
        status["namespaces"] = [namespace]  # else the running source reports them
    mode = str(spec.get("mode") or "Reference")
    status["ceAttributes"] = [
        {"type": type_, "source": addressing.api_server}
        for type_ in EVENT_TYPES.get(mode, EVENT_TYPES["Reference"])
    ]
    mark(status, "SufficientPermissions", "True", now=now)
    mark(status, "OIDCIdentityCreated", "True", OIDC_DISABLED, now=now)
    _unless_reported(status, "Deployed", "the source's watch is not running yet", now)
    mark_ready_from(status, APISERVER_DEPENDENTS, now=now)
    result["status"] = status
    return result


def reconcile_containersource_children(
    source: Resource, objects: Objects, addressing: Addressing
) -> None:
    """The SinkBinding ``<name>-sinkbinding`` whose subject is the source's Deployment."""
    name = source["metadata"]["name"]
    spec = source.get("spec") or {}
    binding: dict[str, Any] = {
        "subject": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": child_name(name, "-deployment"),
        },
    }
    for key in ("sink", "ceOverrides"):
        if spec.get(key) is not None:
            binding[key] = clone(spec[key])
    upsert_child(
        objects,
        source,
        "SinkBinding",
        child_name(name, "-sinkbinding"),
        labels={
            CONTAINER_SOURCE_LABEL: name,
            CONTAINER_SOURCE_CONTROLLER[0]: CONTAINER_SOURCE_CONTROLLER[1],
        },
        annotations={},
        spec=binding,
        addressing=addressing,
    )


def reconcile_containersource(
    source: Resource, objects: Objects, addressing: Addressing
) -> Resource:
    """sinkUri, sinkAudience and auth from the SinkBinding (its programs post with the
    binding's identity, as Knative's bound Deployment does), SinkBindingReady and
    ReceiveAdapterReady."""
    now = addressing.now()
    result, status = _start(source)
    binding = objects.get(("SinkBinding", child_name(result["metadata"]["name"], "-sinkbinding")))
    mirror(status, "SinkBindingReady", binding, now=now)
    bound = (binding or {}).get("status") or {}
    for field_name in ("sinkUri", "sinkAudience", "auth"):
        if bound.get(field_name):
            status[field_name] = clone(bound[field_name])
        else:
            status.pop(field_name, None)
    _unless_reported(status, "ReceiveAdapterReady", "the source's program is not running yet", now)
    mark_ready_from(status, CONTAINER_DEPENDENTS, now=now)
    result["status"] = status
    return result
