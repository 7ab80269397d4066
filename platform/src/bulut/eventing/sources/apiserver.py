"""ApiServerSource: which API changes become which CloudEvents (pure; reference §6.3).

Knative's adapter watches the listed resources in the selected namespaces and turns
each add, update and delete into an event:

- ``type``: ``dev.knative.apiserver.<ref|resource>.<add|update|delete>`` (``ref`` in
  ``Reference`` mode, ``resource`` in ``Resource`` mode);
- ``source``: the API server's URL; ``subject``: ``/apis/<apiVersion>/namespaces/<ns>/
  <plural>/<name>`` with the plural guessed from the kind (lower case + s/es/ies), the
  namespace segment empty for cluster-scoped objects;
- extensions ``kind``, ``apiversion``, ``name``, ``namespace`` of the object, then
  ``ceOverrides.extensions`` (which may overwrite them);
- ``data`` (``application/json``): the object reference (Reference) or the whole object
  (Resource; a delete carries the last state).

``owner`` keeps only objects whose *controller* ownerReference has exactly that apiVersion
and kind. Label selectors apply per resource; the namespace selector picks namespaces
(absent: the source's own; ``{}``: all). Objects that exist when the watch starts emit
nothing, as the adapter's informer emits nothing for its initial list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bulut.apis.registry import registry
from bulut.apis.selectors import Matcher, label_selector, selector_text
from bulut.events import CloudEvent, new_event

REFERENCE = "Reference"
RESOURCE = "Resource"
CHANGES = {"ADDED": "add", "MODIFIED": "update", "DELETED": "delete"}


@dataclass(frozen=True)
class WatchedResource:
    """One ``spec.resources[]`` entry."""

    api_version: str
    kind: str
    selector: str = ""  # label selector, text form

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Same apiVersion and kind, and the labels match."""
        return (
            obj.get("apiVersion") == self.api_version
            and obj.get("kind") == self.kind
            and _matcher(self.selector)(obj)
        )


@dataclass(frozen=True)
class ApiServerSpec:
    """An ApiServerSource as its adapter needs it (``version`` changes when it must restart)."""

    namespace: str
    name: str
    resources: tuple[WatchedResource, ...]
    mode: str = REFERENCE
    owner: tuple[str, str] | None = None  # (apiVersion, kind)
    namespace_selector: str | None = None  # None: own namespace; "": every namespace
    extensions: Mapping[str, str] = field(default_factory=dict)
    sink_uri: str | None = None

    @property
    def kinds(self) -> frozenset[str]:
        """The kinds to watch, as store keys (a ``v1`` Service is ``Service.core``)."""
        return frozenset(registry().key_for(r.api_version, r.kind) for r in self.resources)

    def namespaces(self, labels_by_namespace: Mapping[str, Mapping[str, str]]) -> list[str]:
        """The watched namespaces, sorted (``status.namespaces``)."""
        if self.namespace_selector is None:
            return [self.namespace]
        match = _matcher(self.namespace_selector)
        return sorted(
            ns
            for ns, labels in labels_by_namespace.items()
            if match({"metadata": {"labels": labels}})
        )


def _matcher(text: str) -> Matcher:
    return label_selector(text)


def parse_apiserversource(obj: Mapping[str, Any]) -> ApiServerSpec:
    """Read an ApiServerSource object (admitted: its spec is valid)."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    owner = spec.get("owner")
    selector = spec.get("namespaceSelector")
    return ApiServerSpec(
        namespace=str(meta.get("namespace") or "default"),
        name=str(meta.get("name") or ""),
        resources=tuple(
            WatchedResource(
                str(item.get("apiVersion")),
                str(item.get("kind")),
                selector_text(item.get("selector")),
            )
            for item in spec.get("resources") or []
        ),
        mode=str(spec.get("mode") or REFERENCE),
        owner=(str(owner.get("apiVersion")), str(owner.get("kind"))) if owner else None,
        namespace_selector=None if selector is None else selector_text(selector),
        extensions={
            str(k): str(v)
            for k, v in ((spec.get("ceOverrides") or {}).get("extensions") or {}).items()
        },
        sink_uri=status.get("sinkUri") or (spec.get("sink") or {}).get("uri"),
    )


def plural_of(kind: str) -> str:
    """The adapter's guess at a kind's resource name: lower case, then s, es or ies."""
    lower = kind.lower()
    if lower.endswith("s"):
        return lower + "es"
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + "s"


def subject_of(obj: Mapping[str, Any]) -> str:
    """``/apis/<apiVersion>/namespaces/<ns>/<plural>/<name>``."""
    meta = obj.get("metadata") or {}
    return (
        f"/apis/{obj.get('apiVersion')}/namespaces/{meta.get('namespace') or ''}/"
        f"{plural_of(str(obj.get('kind')))}/{meta.get('name')}"
    )


def _owned_as_wanted(obj: Mapping[str, Any], owner: tuple[str, str] | None) -> bool:
    if owner is None:
        return True
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    controller = next((ref for ref in refs if ref.get("controller")), None)
    return (
        controller is not None and (controller.get("apiVersion"), controller.get("kind")) == owner
    )


def selected(
    spec: ApiServerSpec, obj: Mapping[str, Any], namespaces: frozenset[str] | None
) -> bool:
    """Whether a change to ``obj`` is the source's business.

    ``namespaces`` are the watched ones (None: every namespace); cluster-scoped objects
    have no namespace and are always in scope.
    """
    namespace = (obj.get("metadata") or {}).get("namespace") or ""
    if namespace and namespaces is not None and namespace not in namespaces:
        return False
    if not any(resource.matches(obj) for resource in spec.resources):
        return False
    return _owned_as_wanted(obj, spec.owner)


def reference_of(obj: Mapping[str, Any]) -> dict[str, str]:
    """Reference mode's data: kind, namespace, name, apiVersion (empty ones left out)."""
    meta = obj.get("metadata") or {}
    reference = {
        "kind": obj.get("kind"),
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "apiVersion": obj.get("apiVersion"),
    }
    return {key: str(value) for key, value in reference.items() if value}


def change_event(
    spec: ApiServerSpec, change: str, obj: Mapping[str, Any], source: str
) -> CloudEvent:
    """The CloudEvent for one watch change (``ADDED``, ``MODIFIED``, ``DELETED``)."""
    meta = obj.get("metadata") or {}
    family = "resource" if spec.mode == RESOURCE else "ref"
    extensions = {
        "kind": str(obj.get("kind") or ""),
        "apiversion": str(obj.get("apiVersion") or ""),
        "name": str(meta.get("name") or ""),
        "namespace": str(meta.get("namespace") or ""),
    }
    event = new_event(
        type=f"dev.knative.apiserver.{family}.{CHANGES[change]}",
        source=source,
        subject=subject_of(obj),
        data=dict(obj) if spec.mode == RESOURCE else reference_of(obj),
        datacontenttype="application/json",
        **{key: value for key, value in extensions.items() if value},
    )
    if spec.extensions:
        event = event.with_attributes(**dict(spec.extensions))
    return event
