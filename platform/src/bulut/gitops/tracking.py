"""Which objects an application manages: Argo CD's annotation tracking.

Argo CD (``application.resourceTrackingMethod: annotation``) writes
``argocd.argoproj.io/tracking-id: <app>:<group>/<Kind>:<namespace>/<name>`` on every object it
applies, and prunes only objects whose annotation names the application. Bulut does the same,
so a hand-made object in the same namespace is never pruned.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bulut.apis.registry import registry
from bulut.errors import InvalidInputError

TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"
SYNC_WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"


@dataclass(frozen=True, order=True)
class ObjectRef:
    """The identity of an object: group, kind, namespace and name."""

    group: str
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> ObjectRef:
        """The reference of a Kubernetes document."""
        api_version = str(document.get("apiVersion", ""))
        group = api_version.rpartition("/")[0]
        metadata = document.get("metadata") or {}
        return cls(
            group=group,
            kind=str(document.get("kind", "")),
            namespace=str(metadata.get("namespace") or ""),
            name=str(metadata.get("name") or ""),
        )

    @classmethod
    def parse(cls, text: str) -> ObjectRef:
        """The reference :meth:`__str__` printed (``Service.serving.knative.dev shop/orders``)."""
        qualified, _, where = text.partition(" ")
        kind, _, group = qualified.partition(".")
        namespace, _, name = where.rpartition("/")
        return cls(group=group, kind=kind, namespace=namespace, name=name)

    @property
    def kind_key(self) -> str:
        """The control plane's key for this kind: ``Service`` is Knative's, ``Service.core``
        the core v1 one (:attr:`bulut.apis.registry.ApiResource.key`)."""
        return registry().key_in(self.group, self.kind)

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        group = f".{self.group}" if self.group else ""
        return f"{self.kind}{group} {where}{self.name}"


def tracking_id(app: str, ref: ObjectRef) -> str:
    """``<app>:<group>/<Kind>:<namespace>/<name>``, Argo CD's format."""
    return f"{app}:{ref.group}/{ref.kind}:{ref.namespace}/{ref.name}"


def tracked_app(document: Mapping[str, Any]) -> str | None:
    """The application named by an object's tracking annotation, if any."""
    annotations = (document.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(TRACKING_ANNOTATION)
    if not isinstance(value, str) or ":" not in value:
        return None
    return value.split(":", 1)[0]


def with_tracking(app: str, document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` that carries the tracking annotation of ``app``."""
    tracked = copy.deepcopy(dict(document))
    metadata = tracked.setdefault("metadata", {})
    annotations = metadata.setdefault("annotations", {})
    annotations[TRACKING_ANNOTATION] = tracking_id(app, ObjectRef.of(tracked))
    return tracked


def sync_wave(document: Mapping[str, Any]) -> int:
    """The object's sync wave (``argocd.argoproj.io/sync-wave``, 0 when absent).

    A value that is not an integer fails the sync with the object and the annotation named.
    """
    annotations = (document.get("metadata") or {}).get("annotations") or {}
    value = str(annotations.get(SYNC_WAVE_ANNOTATION, "0")).strip()
    try:
        return int(value)
    except ValueError:
        raise InvalidInputError(
            f"{ObjectRef.of(document)}: annotation {SYNC_WAVE_ANNOTATION}={value!r} is not "
            "an integer",
            field=f"metadata.annotations.{SYNC_WAVE_ANNOTATION}",
        ) from None
