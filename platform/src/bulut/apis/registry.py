"""Every kind the control plane serves, read from CustomResourceDefinitions.

The table :data:`SERVED` names a CRD file (vendored under ``crds/`` with its provenance in
``SOURCES.txt``) and the version to serve; everything else (group, kind, plural, singular,
short names, categories, scope, the status subresource, printer columns and the
openAPIV3Schema) comes from the CRD itself. Adding a kind is one row: vendor its CRD, add
``Served("folder/file.yaml", "v1")``; ``reconciled=False`` marks a kind that is stored and
validated here but acted upon only on a cluster.

Kubernetes built-in kinds (Namespace, ConfigMap, ServiceAccount, NetworkPolicy) are written
in the same CRD shape under ``crds/core`` (``builtin=True``: they also take strategic merge
patches, as on a cluster).
Nothing is read at import: :func:`registry` parses the files on first use and caches them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

import orjson
import yaml

from bulut.errors import ConfigError, NotFoundError

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
SUBRESOURCE_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class Served:
    """One row of the table: a vendored CRD file and the version served from it.

    ``kind`` picks one CRD from a file that holds several; ``cluster_only`` marks a kind that
    acts only on a cluster: stored and validated here, listed by ``get``, never reconciled
    (its objects carry a ``Ready: Unknown, NotReconciledLocally`` condition).
    """

    crd: str
    version: str
    reconciled: bool = True
    builtin: bool = False  # a Kubernetes built-in kind (strategic merge patch, protobuf)
    kind: str = ""
    cluster_only: bool = False


@dataclass(frozen=True)
class ClusterOnly:
    """A cluster-only kind served from the compact bundle (``bulut/manifests/schemas``).

    The bundle is derived from the vendored CRD (``crds/<area>/...``) by
    ``scripts/extract_schemas.py``; reading it is milliseconds where the multi-megabyte Argo
    and Tekton CRDs take seconds to parse.
    """

    api_version: str
    kind: str


# The order is the order a watch lists existing objects in and `kubectl api-resources` shows.
SERVED: tuple[Served, ...] = (
    Served("knative/serving-service-crd.yaml", "v1"),
    Served("knative/serving-configuration-crd.yaml", "v1"),
    Served("knative/serving-revision-crd.yaml", "v1"),
    Served("knative/serving-route-crd.yaml", "v1"),
    Served("knative/serving-domainmapping-crd.yaml", "v1beta1"),
    Served("knative/serving-clusterdomainclaim-crd.yaml", "v1alpha1"),
    Served("knative/eventing-broker-crd.yaml", "v1"),
    Served("knative/eventing-trigger-crd.yaml", "v1"),
    Served("knative/eventing-pingsource-crd.yaml", "v1"),
    Served("knative/eventing-sinkbinding-crd.yaml", "v1"),
    Served("knative/eventing-apiserversource-crd.yaml", "v1"),
    Served("knative/eventing-containersource-crd.yaml", "v1"),
    Served("knative/eventing-jobsink-crd.yaml", "v1alpha1"),
    Served("knative/eventing-inmemorychannel-crd.yaml", "v1"),
    Served("knative/eventing-kafkachannel-crd.yaml", "v1beta1"),
    Served("knative/eventing-channel-crd.yaml", "v1"),
    Served("knative/eventing-subscription-crd.yaml", "v1"),
    Served("knative/eventing-sequence-crd.yaml", "v1"),
    Served("knative/eventing-parallel-crd.yaml", "v1"),
    Served("knative/eventing-eventtype-crd.yaml", "v1beta3"),
    Served("knative/eventing-eventpolicy-crd.yaml", "v1alpha1"),
    Served("core/configmaps.yaml", "v1", builtin=True),
    Served("core/namespaces.yaml", "v1", builtin=True),
    Served("core/serviceaccounts.yaml", "v1", reconciled=False, builtin=True),
    Served("core/networkpolicies.yaml", "v1", reconciled=False, builtin=True),
)


def _builtin(crd: str, kind: str, version: str = "v1") -> Served:
    return Served(crd, version, reconciled=False, builtin=True, kind=kind, cluster_only=True)


def _operator(crd: str, kind: str, version: str) -> Served:
    return Served(crd, version, reconciled=False, kind=kind, cluster_only=True)


# Kinds that act only on a cluster. Kubernetes built-ins and operator kinds without an upstream
# CRD are described in crds/core (written here, CRD-shaped); the others come
# from their vendored upstream CRDs through the compact bundle. A kind whose name a Knative kind
# already uses (core v1 Service, OpenShift Route, OLM Subscription) is stored under its
# group-qualified key (see :attr:`ApiResource.key`).
CLUSTER_ONLY_SERVED: tuple[Served, ...] = (
    _builtin("core/services.yaml", "Service"),
    _builtin("core/rbac.yaml", "Role"),
    _builtin("core/rbac.yaml", "RoleBinding"),
    _builtin("core/rbac.yaml", "ClusterRole"),
    _builtin("core/rbac.yaml", "ClusterRoleBinding"),
    _builtin("core/workloads.yaml", "Deployment"),
    _builtin("core/workloads.yaml", "StatefulSet"),
    _builtin("core/workloads.yaml", "DaemonSet"),
    _builtin("core/workloads.yaml", "Job"),
    _builtin("core/workloads.yaml", "CronJob"),
    _builtin("core/policy.yaml", "PodDisruptionBudget"),
    _builtin("core/policy.yaml", "HorizontalPodAutoscaler", "v2"),
    _builtin("core/policy.yaml", "PersistentVolumeClaim"),
    _builtin("core/policy.yaml", "LimitRange"),
    _builtin("core/policy.yaml", "ResourceQuota"),
    _builtin("core/policy.yaml", "Ingress"),
    _operator("core/operators.yaml", "OperatorGroup", "v1"),
    _operator("core/operators.yaml", "Subscription", "v1alpha1"),
    _operator("core/operators.yaml", "KnativeServing", "v1beta1"),
    _operator("core/operators.yaml", "KnativeEventing", "v1beta1"),
)
CLUSTER_ONLY_BUNDLED: tuple[ClusterOnly, ...] = (
    ClusterOnly("route.openshift.io/v1", "Route"),
    ClusterOnly("argoproj.io/v1alpha1", "Application"),
    ClusterOnly("argoproj.io/v1alpha1", "ApplicationSet"),
    ClusterOnly("argoproj.io/v1alpha1", "AppProject"),
    ClusterOnly("argoproj.io/v1alpha1", "Workflow"),
    ClusterOnly("argoproj.io/v1alpha1", "WorkflowTemplate"),
    ClusterOnly("argoproj.io/v1alpha1", "ClusterWorkflowTemplate"),
    ClusterOnly("argoproj.io/v1alpha1", "CronWorkflow"),
    ClusterOnly("argoproj.io/v1alpha1", "EventBus"),
    ClusterOnly("argoproj.io/v1alpha1", "EventSource"),
    ClusterOnly("argoproj.io/v1alpha1", "Sensor"),
    ClusterOnly("tekton.dev/v1", "Pipeline"),
    ClusterOnly("tekton.dev/v1", "Task"),
    ClusterOnly("tekton.dev/v1", "PipelineRun"),
    ClusterOnly("tekton.dev/v1", "TaskRun"),
    ClusterOnly("velero.io/v1", "Schedule"),
    ClusterOnly("velero.io/v1", "Backup"),
    ClusterOnly("velero.io/v1", "Restore"),
    ClusterOnly("velero.io/v1", "BackupStorageLocation"),
    ClusterOnly("velero.io/v1", "VolumeSnapshotLocation"),
    ClusterOnly("oadp.openshift.io/v1alpha1", "DataProtectionApplication"),
    ClusterOnly("monitoring.coreos.com/v1", "ServiceMonitor"),
    ClusterOnly("monitoring.coreos.com/v1", "PodMonitor"),
    ClusterOnly("monitoring.coreos.com/v1", "PrometheusRule"),
    ClusterOnly("external-secrets.io/v1", "ExternalSecret"),
    ClusterOnly("external-secrets.io/v1", "SecretStore"),
    ClusterOnly("external-secrets.io/v1", "ClusterSecretStore"),
)


@dataclass(frozen=True)
class PrinterColumn:
    """One ``additionalPrinterColumns`` entry."""

    name: str
    type: str
    json_path: str
    description: str = ""
    format: str = ""
    priority: int = 0


# A cluster-only kind's own columns stay; these two show it is not reconciled locally.
NOT_RECONCILED_COLUMNS = (
    PrinterColumn("Ready", "string", '.status.conditions[?(@.type=="Ready")].status'),
    PrinterColumn("Reason", "string", '.status.conditions[?(@.type=="Ready")].reason'),
)


@dataclass(frozen=True)
class ApiResource:
    """One served kind: its coordinates, names, scope, schema and printer columns."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    namespaced: bool = True
    status_subresource: bool = False
    printer_columns: tuple[PrinterColumn, ...] = ()
    schema: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    source: str = ""
    reconciled: bool = True
    builtin: bool = False
    cluster_only: bool = False
    stored_as: str = ""  # the store key when it is not the bare kind (set by the Registry)

    @property
    def key(self) -> str:
        """The kind's key in the store, the watch and a namespace's objects.

        The bare ``Kind`` for the first served kind of that name (Knative's come first in the
        table), ``Kind.group`` for a later one (``core`` for the core group): a core v1
        Service is ``Service.core``, an OpenShift Route ``Route.route.openshift.io``.
        """
        return self.stored_as or self.kind

    @property
    def api_version(self) -> str:
        """``group/version``, or just ``version`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        """The same as :attr:`api_version` (discovery's ``groupVersion``)."""
        return self.api_version

    @property
    def list_kind(self) -> str:
        """``<Kind>List``."""
        return f"{self.kind}List"

    @property
    def aliases(self) -> tuple[str, ...]:
        """Short names (``ksvc``), as kubectl accepts them."""
        return self.short_names

    @property
    def qualified(self) -> str:
        """kubectl's ``<singular>.<group>`` spelling, e.g. ``service.serving.knative.dev``."""
        return f"{self.singular}.{self.group}" if self.group else self.singular

    @property
    def resource_name(self) -> str:
        """``<plural>.<group>``, as kube-apiserver names a resource in its messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def root(self) -> str:
        """``/apis/<group>/<version>``, or ``/api/v1`` for the core group."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def collection_path(self, namespace: str | None) -> str:
        """REST path of the collection (all namespaces, or cluster scope, when None)."""
        if namespace is None or not self.namespaced:
            return f"{self.root}/{self.plural}"
        return f"{self.root}/namespaces/{namespace}/{self.plural}"

    def item_path(self, namespace: str | None, name: str) -> str:
        """REST path of one object."""
        return f"{self.collection_path(namespace)}/{name}"

    def names(self) -> frozenset[str]:
        """Every spelling that resolves to this kind (case-insensitive)."""
        spellings = {self.kind.lower(), self.plural, self.singular, *self.short_names}
        spellings.add(self.key.lower())
        if self.group:
            spellings |= {f"{self.plural}.{self.group}", self.qualified}
            spellings.add(f"{self.kind.lower()}.{self.group}")
        return frozenset(spellings)


class Registry:
    """The served kinds, indexed the ways routes, clients and the planes look them up."""

    def __init__(self, served: tuple[ApiResource, ...]) -> None:
        named: set[str] = set()
        keyed: list[ApiResource] = []
        for resource in served:
            if resource.kind in named:
                resource = replace(resource, stored_as=qualified_key(resource.group, resource.kind))
            named.add(resource.kind)
            keyed.append(resource)
        self.resources = tuple(keyed)
        self.by_key = {r.key: r for r in self.resources}
        self._by_group_kind = {(r.group, r.kind): r for r in self.resources}
        if len(self._by_group_kind) != len(served):
            pairs = [(r.group, r.kind) for r in served]
            twice = sorted({qualified_key(*pair) for pair in pairs if pairs.count(pair) > 1})
            raise ConfigError(f"kinds served twice: {twice}")
        self._by_path = {(r.group, r.version, r.plural): r for r in self.resources}

    def __iter__(self) -> Iterator[ApiResource]:
        return iter(self.resources)

    def groups(self) -> list[tuple[str, str]]:
        """Every (group, version) served, core first, then groups by name."""
        return sorted({(r.group, r.version) for r in self.resources})

    def in_group(self, group: str, version: str) -> list[ApiResource]:
        """The kinds of one group version, in table order."""
        return [r for r in self.resources if (r.group, r.version) == (group, version)]

    def at_path(self, group: str, version: str, plural: str) -> ApiResource | None:
        """The kind served at ``.../<plural>`` of a group version, None when none is."""
        return self._by_path.get((group, version, plural))

    def lookup(self, name: str) -> ApiResource:
        """A kind from its Kind, plural, singular, short name or ``plural.group`` form."""
        wanted = name.strip().lower()
        for resource in self.resources:
            if wanted in resource.names():
                return resource
        raise NotFoundError(f"unknown resource type {name.strip()!r}", field="kind")

    def for_document(self, api_version: str, kind: str) -> ApiResource | None:
        """The served kind a document declares, None when its apiVersion/kind is not served."""
        resource = self._by_group_kind.get((api_version.rpartition("/")[0], kind))
        if resource is None or resource.api_version != api_version:
            return None
        return resource

    def of_kind(self, kind: str) -> list[ApiResource]:
        """Every served kind of that name, in table order (Knative's first)."""
        return [r for r in self.resources if r.kind == kind]

    def key_for(self, api_version: str, kind: str) -> str:
        """The store key of a document's kind (its group's, whatever its version).

        An unserved kind keeps its bare name (nothing of it is stored).
        """
        return self.key_in(api_version.rpartition("/")[0], kind)

    def key_in(self, group: str, kind: str) -> str:
        """The store key of a kind of a group (the bare kind when it is not served)."""
        resource = self._by_group_kind.get((group, kind))
        return resource.key if resource is not None else kind

    def key_of(self, document: Mapping[str, Any]) -> str:
        """The store key of a document (see :meth:`key_for`)."""
        return self.key_for(str(document.get("apiVersion") or ""), str(document.get("kind") or ""))


def qualified_key(group: str, kind: str) -> str:
    """``Kind.group``, with ``core`` for the core group: the key of a kind whose bare name
    an earlier served kind already uses."""
    return f"{kind}.{group or 'core'}"


def _read_crd(path: str, kind: str = "") -> Mapping[str, Any]:
    folder = resources.files("bulut.apis").joinpath("crds")
    text = folder.joinpath(path).read_text(encoding="utf-8")
    for document in yaml.load_all(text, Loader=_Loader):
        is_crd = isinstance(document, dict) and document.get("kind") == "CustomResourceDefinition"
        if is_crd and (not kind or document["spec"]["names"]["kind"] == kind):
            found: Mapping[str, Any] = document
            return found
    raise ConfigError(f"{path} holds no CustomResourceDefinition {kind}".rstrip())


def _bundled(row: ClusterOnly) -> ApiResource:
    """A cluster-only kind from its compact bundle entry (see :class:`ClusterOnly`)."""
    group, version = row.api_version.split("/")
    name = f"{group}_{version}_{row.kind}.json".lower()
    entry = orjson.loads(resources.files("bulut.manifests").joinpath("schemas", name).read_bytes())
    index = entry["crd"]
    crd = {
        "spec": {
            "group": index["group"],
            "names": index["names"],
            "scope": index["scope"],
            "versions": [
                {
                    "name": version,
                    "subresources": index["subresources"],
                    "additionalPrinterColumns": index["additionalPrinterColumns"],
                    "schema": {"openAPIV3Schema": entry["openAPIV3Schema"]},
                }
            ],
        }
    }
    return from_crd(
        crd, version, source=str(entry["vendored"]), reconciled=False, cluster_only=True
    )


def from_crd(
    crd: Mapping[str, Any],
    version: str,
    *,
    source: str,
    reconciled: bool,
    builtin: bool = False,
    cluster_only: bool = False,
) -> ApiResource:
    """The ApiResource for one version of a CRD."""
    spec = crd["spec"]
    names = spec["names"]
    served = next((v for v in spec["versions"] if v["name"] == version), None)
    if served is None:
        raise ConfigError(f"{source} does not serve version {version}")
    columns = tuple(
        PrinterColumn(
            name=str(c["name"]),
            type=str(c.get("type", "string")),
            json_path=str(c["jsonPath"]),
            description=str(c.get("description", "")),
            format=str(c.get("format", "")),
            priority=int(c.get("priority", 0)),
        )
        for c in served.get("additionalPrinterColumns") or ()
    )
    if not columns:
        columns = (PrinterColumn("Age", "date", ".metadata.creationTimestamp"),)
    if cluster_only:
        own = {column.name for column in columns}
        columns = (*(c for c in NOT_RECONCILED_COLUMNS if c.name not in own), *columns)
    return ApiResource(
        group=str(spec.get("group") or ""),
        version=version,
        kind=str(names["kind"]),
        plural=str(names["plural"]),
        singular=str(names.get("singular") or names["kind"].lower()),
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        status_subresource="status" in (served.get("subresources") or {}),
        printer_columns=columns,
        schema=(served.get("schema") or {}).get("openAPIV3Schema") or {"type": "object"},
        source=source,
        reconciled=reconciled,
        builtin=builtin,
        cluster_only=cluster_only,
    )


@cache
def registry() -> Registry:
    """The served kinds (read once from the vendored CRDs)."""
    rows = tuple(
        from_crd(
            _read_crd(row.crd, row.kind),
            row.version,
            source=row.crd,
            reconciled=row.reconciled,
            builtin=row.builtin,
            cluster_only=row.cluster_only,
        )
        for row in (*SERVED, *CLUSTER_ONLY_SERVED)
    )
    return Registry((*rows, *(_bundled(row) for row in CLUSTER_ONLY_BUNDLED)))
