"""Namespaces: the one cluster-scoped kind served (admission, pure).

A namespace is ``Active`` with the ``kubernetes`` finalizer in ``spec.finalizers`` and the
``kubernetes.io/metadata.name`` label, as on a cluster (its rules and defaults are
:mod:`bulut.apis.rules.core`'s). Namespaces also appear on use: a
write into a namespace that has no Namespace object creates it (see ``ControlPlane``).
"""

from __future__ import annotations

from typing import Any

from bulut.apis.patches import clone
from bulut.apis.rules.core import default_namespace, validate_namespace
from bulut.manifests.feed import Resource


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
        }
        stored["metadata"].update({"uid": uid, "creationTimestamp": now})
    else:
        stored = clone(existing)
        for key in ("labels", "annotations", "finalizers"):
            if meta.get(key):
                stored["metadata"][key] = clone(meta[key])
            else:
                stored["metadata"].pop(key, None)
    return default_namespace(stored)


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
