"""Owner references, child objects and garbage collection within one namespace."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from bulut.manifests.feed import Resource

from .. import kinds
from ..addresses import Addressing
from ..patching import clone

Objects = dict[tuple[str, str], Resource]


def owner_reference(owner: Resource) -> dict[str, Any]:
    """A controller ownerReference to ``owner``."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def is_controlled_by(resource: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    """True when ``owner`` is the controller of ``resource``."""
    uid = owner["metadata"].get("uid")
    refs = resource.get("metadata", {}).get("ownerReferences") or []
    return any(ref.get("uid") == uid and ref.get("controller") for ref in refs)


def child_name(parent: str, suffix: str) -> str:
    """kmeta.ChildName: ``parent + suffix``, shortened with a hash beyond 63 characters."""
    name = parent + suffix
    if len(name) <= 63:
        return name
    digest = hashlib.md5(parent.encode(), usedforsecurity=False).hexdigest()
    return parent[: 63 - len(suffix) - len(digest)] + digest + suffix


def upsert_child(
    objects: Objects,
    owner: Resource,
    kind: str,
    name: str,
    *,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    spec: Mapping[str, Any],
    addressing: Addressing,
) -> Resource | None:
    """Create or update a controlled child; None when someone else owns that name."""
    namespace = owner["metadata"]["namespace"]
    current = objects.get((kind, name))
    if current is not None and not is_controlled_by(current, owner):
        return None
    if current is None:
        child: Resource = {
            "apiVersion": kinds.BY_KEY[kind].api_version,
            "kind": kind,
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": addressing.new_uid(),
                "generation": 1,
                "creationTimestamp": addressing.now(),
                "ownerReferences": [owner_reference(owner)],
            },
            "spec": clone(dict(spec)),
        }
    else:
        child = clone(current)
        if child.get("spec") != spec:
            child["spec"] = clone(dict(spec))
            child["metadata"]["generation"] = int(child["metadata"].get("generation", 1)) + 1
    meta = child["metadata"]
    for key, values in (("labels", labels), ("annotations", annotations)):
        if values:
            meta[key] = dict(values)
        else:
            meta.pop(key, None)
    objects[(kind, name)] = child
    return child


def _is_garbage(obj: Resource, uids: set[Any]) -> bool:
    """A controller owner gone, or every owner gone (cluster-scoped owners are not judged)."""
    refs = [r for r in obj["metadata"].get("ownerReferences") or [] if r.get("kind") != "Namespace"]
    if any(ref.get("controller") and ref.get("uid") not in uids for ref in refs):
        return True
    return bool(refs) and all(ref.get("uid") not in uids for ref in refs)


def collect_garbage(objects: Objects) -> None:
    """Delete, in place, every object whose owners no longer exist (Kubernetes' GC)."""
    while True:
        uids = {obj["metadata"].get("uid") for obj in objects.values()}
        orphans = [key for key, obj in objects.items() if _is_garbage(obj, uids)]
        if not orphans:
            return
        for key in orphans:
            del objects[key]


def of_kind(objects: Objects, kind: str) -> list[Resource]:
    """This namespace's objects of one kind, by name."""
    return [obj for (k, _), obj in sorted(objects.items()) if k == kind]
