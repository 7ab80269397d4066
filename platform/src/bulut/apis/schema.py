"""Unknown fields: what ``fieldValidation`` (Strict, Warn, Ignore) checks against a schema (pure).

A field is unknown when its object node lists ``properties`` without it and neither
``additionalProperties`` nor ``x-kubernetes-preserve-unknown-fields`` lets it in.
``metadata`` is checked against ObjectMeta's fields; ``status`` is the server's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OBJECT_META_FIELDS = frozenset(
    {
        "name",
        "generateName",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "finalizers",
        "ownerReferences",
        "managedFields",
        "selfLink",
    }
)


def unknown_fields(document: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Dotted paths (``spec.foo``, ``spec.containers[0].imagee``) the schema does not know."""
    found: list[str] = []
    for key, value in document.items():
        if key in ("apiVersion", "kind", "status"):
            continue
        if key == "metadata":
            if isinstance(value, Mapping):
                found += [f"metadata.{k}" for k in value if k not in OBJECT_META_FIELDS]
            continue
        sub = (schema.get("properties") or {}).get(key)
        if sub is None:
            if not _open(schema):
                found.append(key)
            continue
        found += _walk(value, sub, key)
    return found


def _open(schema: Mapping[str, Any]) -> bool:
    return bool(
        schema.get("x-kubernetes-preserve-unknown-fields")
        or schema.get("additionalProperties")
        or ("properties" not in schema and schema.get("type") in (None, "object"))
    )


def _walk(value: Any, schema: Mapping[str, Any], path: str) -> list[str]:
    if schema.get("x-kubernetes-preserve-unknown-fields") and "properties" not in schema:
        return []
    found: list[str] = []
    if isinstance(value, Mapping):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, sub_value in value.items():
            sub = (properties or {}).get(key)
            if sub is not None:
                found += _walk(sub_value, sub, f"{path}.{key}")
            elif isinstance(extra, Mapping):
                found += _walk(sub_value, extra, f"{path}.{key}")
            elif properties is not None and not _open(schema):
                found.append(f"{path}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(value):
            found += _walk(item, schema["items"], f"{path}[{index}]")
    return found
