"""eventing.knative.dev/v1beta3 EventType webhook rules (pure; reference knative-kinds §9.1).

The attributes named ``type``, ``source``, ``specversion`` and ``id`` must be listed
(their values may be empty); a ``reference`` names its apiVersion, kind and name and
stays in the EventType's namespace, which defaulting fills in. Knative's "all fields
are immutable" check is not invoked by its webhook, so updates pass here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .meta import validate_metadata
from .paths import fail, list_at, mapping_at

REQUIRED_ATTRIBUTES = ("id", "source", "specversion", "type")


def default_eventtype(resource: dict[str, Any]) -> dict[str, Any]:
    """``spec.reference.namespace`` defaults to the EventType's namespace."""
    namespace = resource["metadata"].setdefault("namespace", "default")
    reference = (resource.get("spec") or {}).get("reference")
    if isinstance(reference, dict):
        reference.setdefault("namespace", namespace)
    return resource


def validate_eventtype(resource: Mapping[str, Any]) -> None:
    """An EventType: named attributes including the four required ones, a local reference."""
    validate_metadata(resource, dns1035=False)
    namespace = str((resource.get("metadata") or {}).get("namespace") or "default")
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    names = set()
    for index, raw in enumerate(list_at(spec.get("attributes"), "spec.attributes")):
        attribute = mapping_at(raw, f"spec.attributes[{index}]")
        name = attribute.get("name")
        if not isinstance(name, str) or not name:
            fail("missing field(s)", f"spec.attributes[{index}].name")
        value = attribute.get("value")
        if value is not None and not isinstance(value, str):
            fail("invalid value: expected a string", f"spec.attributes[{index}].value")
        names.add(name)
    missing = [name for name in REQUIRED_ATTRIBUTES if name not in names]
    if missing:
        fail(f"missing required attribute(s) {', '.join(missing)}", "spec.attributes")
    reference = mapping_at(spec.get("reference"), "spec.reference")
    if reference:
        for key in ("apiVersion", "kind", "name"):
            if not reference.get(key):
                fail("missing field(s)", f"spec.reference.{key}")
        if reference.get("namespace") and reference["namespace"] != namespace:
            fail(
                f"mismatched namespaces: {reference['namespace']} != {namespace}",
                "spec.reference.namespace",
            )
