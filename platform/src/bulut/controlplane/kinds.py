"""The kinds the control plane stores, and the ones it knowingly ignores.

Each stored kind has Kubernetes coordinates (group, version, plural) so the REST paths
are the ones a cluster serves: ``/apis/<group>/<version>/namespaces/<ns>/<plural>``
(``/api/v1/...`` for the core group).
"""

from __future__ import annotations

from dataclasses import dataclass

from bulut.errors import InvalidResourceError, NotFoundError

SERVING = "serving.knative.dev"
EVENTING = "eventing.knative.dev"
SOURCES = "sources.knative.dev"
CORE = ""


@dataclass(frozen=True)
class KindInfo:
    """Where a kind lives in the API and how people call it."""

    kind: str
    group: str
    version: str
    plural: str
    aliases: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        """``group/version``, or just ``version`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """kubectl's ``<singular>.<group>`` spelling, e.g. ``service.serving.knative.dev``."""
        singular = self.kind.lower()
        return f"{singular}.{self.group}" if self.group else singular

    def collection_path(self, namespace: str | None) -> str:
        """REST path of the collection (all namespaces when ``namespace`` is None)."""
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if namespace is None:
            return f"{root}/{self.plural}"
        return f"{root}/namespaces/{namespace}/{self.plural}"


KINDS: tuple[KindInfo, ...] = (
    KindInfo("Service", SERVING, "v1", "services", ("ksvc", "kservice", "ksvcs")),
    KindInfo("Configuration", SERVING, "v1", "configurations", ("config", "cfg")),
    KindInfo("Revision", SERVING, "v1", "revisions", ("rev",)),
    KindInfo("Route", SERVING, "v1", "routes", ("rt",)),
    KindInfo("Broker", EVENTING, "v1", "brokers"),
    KindInfo("Trigger", EVENTING, "v1", "triggers"),
    KindInfo("PingSource", SOURCES, "v1", "pingsources", ("ping",)),
    KindInfo("SinkBinding", SOURCES, "v1", "sinkbindings"),
    KindInfo("ConfigMap", CORE, "v1", "configmaps", ("cm",)),
)

BY_KIND: dict[str, KindInfo] = {info.kind: info for info in KINDS}

# Kinds that only mean something on a cluster: accepted by apply, then ignored.
CLUSTER_ONLY: frozenset[str] = frozenset(
    {
        "Namespace",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "NetworkPolicy",
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
        "DomainMapping",
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
    wanted = name.strip()
    lowered = wanted.lower()
    for info in KINDS:
        names = {info.kind.lower(), info.plural, info.qualified, *info.aliases}
        names.add(f"{info.plural}.{info.group}" if info.group else info.plural)
        if lowered in names:
            # Plain "service"/"services" means the Knative Service, as kn does.
            return info
    raise NotFoundError(f"unknown resource type {wanted!r}", field="kind")


def by_path(group: str, version: str, plural: str) -> KindInfo:
    """The kind served at ``/apis/<group>/<version>/.../<plural>``."""
    for info in KINDS:
        if (info.group, info.version, info.plural) == (group, version, plural):
            return info
    raise NotFoundError(f"the server could not find the requested resource {plural!r}")


def for_document(api_version: str, kind: str) -> KindInfo | None:
    """The stored kind a document declares, None when Bulut does not store it."""
    info = BY_KIND.get(kind)
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
