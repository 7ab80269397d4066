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
from ..policy import pod_spec
from .pods import validate_pod_spec
from .policies import validate_binding, validate_network_policy, validate_pdb, validate_role

_OBJECTS: dict[str, Callable[[Mapping[str, Any]], list[FieldError]]] = {
    "PodDisruptionBudget": validate_pdb,
    "NetworkPolicy": validate_network_policy,
    "Role": validate_role,
    "ClusterRole": validate_role,
    "RoleBinding": validate_binding,
    "ClusterRoleBinding": validate_binding,
}


def validate_object(document: Mapping[str, Any]) -> list[FieldError]:
    """Every kube-apiserver error in one document (empty for kinds it has no rules for)."""
    located = pod_spec(document)  # workload kinds and Knative's (where their pods are)
    if located is not None:
        path, spec = located
        knative = str(document.get("apiVersion", "")).startswith("serving.knative.dev/")
        return validate_pod_spec(spec, path, knative=knative)
    group = str(document.get("apiVersion", "")).rpartition("/")[0]
    check = _OBJECTS.get(str(document.get("kind", "")))
    if check is None or group not in ("policy", "networking.k8s.io", "rbac.authorization.k8s.io"):
        return []
    return check(document)
