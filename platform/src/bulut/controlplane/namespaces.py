"""Namespaces: the one cluster-scoped kind served (admission and defaults, pure).

A namespace is ``Active`` with the ``kubernetes`` finalizer in ``spec.finalizers`` and the
``kubernetes.io/metadata.name`` label, as on a cluster. Namespaces also appear on use: a
write into a namespace that has no Namespace object creates it (see ``ControlPlane``).
"""

from __future__ import annotations

from typing import Any

from bulut.apis.patches import clone
from bulut.manifests.feed import Resource

from .validation.common import DNS1123_LABEL, fail

NAME_LABEL = "kubernetes.io/metadata.name"


def validate_namespace(document: Resource) -> None:
    """metadata.name must be a DNS-1123 label."""
    name = (document.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        fail("Required value: name or generateName is required", "metadata.name")
    if len(name) > 63 or not DNS1123_LABEL.match(name):
        fail(
            f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower case '
            "alphanumeric characters or '-', and must start and end with an alphanumeric "
            "character",
            "metadata.name",
        )


def admit_namespace(
    document: Resource, existing: Resource | None, *, uid: str, now: str
) -> Resource:
    """The Namespace to store: defaults on create; labels, annotations, finalizers on update."""
    validate_namespace(document)
    meta = document.get("metadata") or {}
    if existing is None:
        stored: Resource = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                k: clone(v)
                for k, v in meta.items()
                if k in ("name", "labels", "annotations", "finalizers", "ownerReferences")
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
        stored["metadata"].update({"uid": uid, "creationTimestamp": now})
    else:
        stored = clone(existing)
        for key in ("labels", "annotations", "finalizers"):
            if meta.get(key):
                stored["metadata"][key] = clone(meta[key])
            else:
                stored["metadata"].pop(key, None)
    stored["metadata"].setdefault("labels", {})[NAME_LABEL] = stored["metadata"]["name"]
    return stored


def implied(name: str, *, uid: str, now: str) -> Resource:
    """The Namespace created when something is first written into ``name``."""
    return admit_namespace(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        None,
        uid=uid,
        now=now,
    )


def is_namespace(resource: Any) -> bool:
    """True for a core/v1 Namespace document."""
    return isinstance(resource, dict) and resource.get("kind") == "Namespace"
