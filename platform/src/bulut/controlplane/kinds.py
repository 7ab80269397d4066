"""The kinds the control plane stores (from :mod:`bulut.apis`), and the ones it ignores.

Each stored kind has Kubernetes coordinates (group, version, plural) so the REST paths
are the ones a cluster serves: ``/apis/<group>/<version>/namespaces/<ns>/<plural>``
(``/api/v1/...`` for the core group).
"""

from __future__ import annotations

from collections.abc import Mapping
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
    BY_KEY: dict[str, KindInfo]


def __getattr__(name: str) -> Any:
    """``KINDS`` and ``BY_KEY`` (by store key, :attr:`ApiResource.key`), read from
    :mod:`bulut.apis` on first use."""
    if name == "KINDS":
        return registry().resources
    if name == "BY_KEY":
        return registry().by_key
    raise AttributeError(name)


# Kinds that act only on a cluster and are not served here, so apply reports them as ignored:
# Secrets (never stored locally: values come from Vault, docs/secrets.md),
# CustomResourceDefinitions, and the ones no engineer serves yet. Every other cluster-only kind
# (core v1 Service, OpenShift Route, OLM Subscription, RBAC, Deployment, PDB, HPA, Argo CD, Argo
# Workflows and Events, Tekton, Velero, OADP, ServiceMonitor, KnativeServing...) is served:
# stored, validated, listed, with a "not reconciled locally" condition (bulut.apis.registry
# CLUSTER_ONLY_*).
CLUSTER_ONLY: frozenset[str] = frozenset(
    {
        "Secret",
        "CustomResourceDefinition",
        "CatalogSource",
        "ClusterServiceVersion",
        "ServiceMeshMemberRoll",
        "ServiceMeshControlPlane",
        "PeerAuthentication",
        "AuthorizationPolicy",
        "RequestAuthentication",
        "Gateway",
        "VirtualService",
        "DestinationRule",
        "LokiStack",
        "ClusterLogForwarder",
    }
)

# apiVersions whose every kind is cluster only (core v1, OpenShift Route...).
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
        "maistra.io/v1",
        "maistra.io/v2",
        "security.istio.io/v1",
        "security.istio.io/v1beta1",
        "networking.istio.io/v1",
        "networking.istio.io/v1beta1",
        "loki.grafana.com/v1",
        "observability.openshift.io/v1",
    }
)


def key_of_ref(ref: Mapping[str, Any]) -> str:
    """The store key a KReference (apiVersion, kind, name) points at: a ``v1`` Service's is
    ``Service.core``, not the Knative Service of that name. Without an apiVersion, the bare
    kind."""
    api_version, kind = str(ref.get("apiVersion") or ""), str(ref.get("kind") or "")
    return registry().key_for(api_version, kind) if api_version else kind


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
    """The stored kind a document declares, None when Bulut does not store it.

    A served kind under an apiVersion that serves no such kind is refused naming the one
    that does (a ``serving.knative.dev/v1beta1`` Service), unless that apiVersion is a
    cluster's (a ``v1`` Secret is ignored, not refused).
    """
    served = registry()
    info = served.for_document(api_version, kind)
    if info is not None:
        return info
    named = served.of_kind(kind)
    if not named or api_version in CLUSTER_ONLY_GROUPS:
        return None
    group = api_version.rpartition("/")[0]
    expected = next((r for r in named if r.group == group), named[0])
    raise InvalidResourceError(
        f"{kind} must have apiVersion {expected.api_version!r}, got {api_version!r}",
        field="apiVersion",
    )
