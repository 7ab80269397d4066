"""Which kube-apiserver rules apply to a document, by kind.

Pod templates of workload kinds are validated where they live. A Knative Service,
Configuration or Revision is not a pod, but its template becomes the revision's Deployment,
which the API server validates: an error there leaves the revision without pods, so it is
reported on the Knative object, at the template's path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..findings import FieldError
from .pods import validate_pod_spec
from .policies import validate_binding, validate_network_policy, validate_pdb, validate_role

_POD_SPECS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_KNATIVE: dict[str, tuple[str, ...]] = {
    "Service": ("spec", "template", "spec"),
    "Configuration": ("spec", "template", "spec"),
    "Revision": ("spec",),
}
_OBJECTS: dict[str, Callable[[Mapping[str, Any]], list[FieldError]]] = {
    "PodDisruptionBudget": validate_pdb,
    "NetworkPolicy": validate_network_policy,
    "Role": validate_role,
    "ClusterRole": validate_role,
    "RoleBinding": validate_binding,
    "ClusterRoleBinding": validate_binding,
}


def _at(document: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any] | None:
    node: Any = document
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else None


def validate_object(document: Mapping[str, Any]) -> list[FieldError]:
    """Every kube-apiserver error in one document (empty for kinds it has no rules for)."""
    kind = str(document.get("kind", ""))
    group = str(document.get("apiVersion", "")).rpartition("/")[0]
    if group == "serving.knative.dev" and kind in _KNATIVE:
        path = _KNATIVE[kind]
        spec = _at(document, path)
        return [] if spec is None else validate_pod_spec(spec, ".".join(path), knative=True)
    if group in ("", "apps", "batch") and kind in _POD_SPECS:
        path = _POD_SPECS[kind]
        spec = _at(document, path)
        return [] if spec is None else validate_pod_spec(spec, ".".join(path))
    check = _OBJECTS.get(kind)
    if check is None or group not in ("policy", "networking.k8s.io", "rbac.authorization.k8s.io"):
        return []
    return check(document)
