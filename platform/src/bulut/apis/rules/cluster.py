"""Cluster-only kinds (RBAC, Deployment, PDB, Argo CD, Velero, Tekton...): stored, never reconciled.

Their rules are the API server's: ObjectMeta, and the kind's schema (the vendored upstream
CRD's ``openAPIV3Schema``, or the CRD-shaped description in ``crds/core``) as kube-apiserver
validates a custom resource: types, enums, required fields, bounds. Unknown fields are not
refused here (kube-apiserver prunes them; ``fieldValidation=Strict`` refuses them before
admission). The first error names the JSON path.

:func:`not_reconciled` is the condition such an object carries, so ``get`` shows that a
cluster, not this machine, acts on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema

from bulut.manifests.schemas import apply_defaults, resource_schema

from .meta import validate_metadata
from .paths import fail

CONDITION_TYPE = "Ready"
NOT_RECONCILED_REASON = "NotReconciledLocally"

# The translated schema and its validator per kind schema (the registry's, kept for the process).
_validators: dict[int, tuple[Mapping[str, Any], jsonschema.Draft4Validator, Mapping[str, Any]]] = {}


def validate_cluster_object(resource: Mapping[str, Any], schema: Mapping[str, Any] | None) -> None:
    """ObjectMeta, then the kind's schema (when it has one); the first error names the path."""
    validate_metadata(resource, dns1035=False)
    if not schema:
        return
    validator = _validator(schema)
    document = apply_defaults(resource, _translated(schema))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        first = errors[0]
        best = jsonschema.exceptions.best_match([first]) if first.context else first
        fail(best.message, _path(best.absolute_path) or "spec")


def not_reconciled(kind: str, now: str) -> dict[str, Any]:
    """``Ready: Unknown`` with reason ``NotReconciledLocally`` and a message saying why."""
    return {
        "type": CONDITION_TYPE,
        "status": "Unknown",
        "reason": NOT_RECONCILED_REASON,
        "message": (
            f"{kind} acts only on a cluster: Bulut stores and validates it locally but does "
            "not reconcile it"
        ),
        "lastTransitionTime": now,
    }


def _validator(schema: Mapping[str, Any]) -> jsonschema.Draft4Validator:
    cached = _validators.get(id(schema))
    if cached is None or cached[0] is not schema:
        translated = resource_schema(schema, close=False)
        translated["properties"].pop("status", None)  # the server's, never the user's
        cached = (schema, jsonschema.Draft4Validator(translated), translated)
        _validators[id(schema)] = cached
    return cached[1]


def _translated(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    _validator(schema)
    return _validators[id(schema)][2]


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
