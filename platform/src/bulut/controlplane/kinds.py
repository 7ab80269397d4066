"""The kinds the control plane stores (from :mod:`bulut.apis`), and the ones it ignores.

Each stored kind has Kubernetes coordinates (group, version, plural) so the REST paths
are the ones a cluster serves: ``/apis/<group>/<version>/namespaces/<ns>/<plural>``
(``/api/v1/...`` for the core group).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bulut.apis.registry import ApiResource, registry
from bulut.errors import InvalidResourceError, NotFoundError

SERVING = "serving.knative.dev"
EVENTING = "eventing.knative.dev"
SOURCES = "sources.knative.dev"
CORE = ""


KindInfo = ApiResource

if TYPE_CHECKING:
    KINDS: tuple[KindInfo, ...]
    BY_KIND: dict[str, KindInfo]


def __getattr__(name: str) -> Any:
    """``KINDS`` and ``BY_KIND``, read from :mod:`bulut.apis` on first use."""
    if name == "KINDS":
        return registry().resources
    if name == "BY_KIND":
        return registry().by_kind
    raise AttributeError(name)


# Kinds that only mean something on a cluster: accepted by apply, then ignored.
CLUSTER_ONLY: frozenset[str] = frozenset(
    {
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "PodDisruptionBudget",
        "Secret",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "Ingress",
        "HorizontalPodAutoscaler",
        "PersistentVolumeClaim",
        "LimitRange",
        "ResourceQuota",
        "CustomResourceDefinition",
        "KnativeServing",
        "KnativeEventing",
        "Application",
        "ApplicationSet",
        "AppProject",
        "Workflow",
        "WorkflowTemplate",
        "CronWorkflow",
        "Schedule",
        "Backup",
        "Restore",
        "BackupStorageLocation",
    }
)

# apiVersions whose every kind is cluster only (core v1 Service, OpenShift Route...).
CLUSTER_ONLY_GROUPS: frozenset[str] = frozenset(
    {
        "v1",
        "route.openshift.io/v1",
        "networking.k8s.io/v1",
        "rbac.authorization.k8s.io/v1",
        "policy/v1",
        "apps/v1",
        "batch/v1",
        "argoproj.io/v1alpha1",
        "velero.io/v1",
        "operator.knative.dev/v1beta1",
        "operators.coreos.com/v1alpha1",
        "operators.coreos.com/v1",
    }
)


def lookup(name: str) -> KindInfo:
    """Resolve a kind from its Kind, plural, singular, alias or ``plural.group`` form."""
    return registry().lookup(name)


def by_path(group: str, version: str, plural: str) -> KindInfo:
    """The kind served at ``/apis/<group>/<version>/.../<plural>``."""
    found = registry().at_path(group, version, plural)
    if found is None:
        raise NotFoundError(f"the server could not find the requested resource {plural!r}")
    return found


def for_document(api_version: str, kind: str) -> KindInfo | None:
    """The stored kind a document declares, None when Bulut does not store it."""
    info = registry().by_kind.get(kind)
    if info is None:
        return None
    if api_version != info.api_version:
        if kind in {"Service", "Route"} and api_version in {"v1", "route.openshift.io/v1"}:
            return None  # a core Kubernetes Service or an OpenShift Route: cluster only
        raise InvalidResourceError(
            f"{kind} must have apiVersion {info.api_version!r}, got {api_version!r}",
            field="apiVersion",
        )
    return info
