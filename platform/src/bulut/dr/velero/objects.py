"""Velero objects as data, and how to read their status. Pure: no cluster needed.

The Knative-aware scope (reference/cluster-ops.md §3.3): back up what people and Git
declare — Knative Services, Brokers, Triggers, sources, Secrets, ConfigMaps,
ServiceAccounts, RBAC, NetworkPolicies — and leave out what Knative's controllers
generate (Configurations, Revisions, Routes, their Deployments, ReplicaSets, Endpoints,
PodAutoscalers, Ingresses, channel Subscriptions...). Restoring those children fails
Knative's webhooks (knative/serving#10926); the controllers rebuild them from the restored
Service. Pods are backed up (hooks and file-system backups run only for backed-up pods) but
never restored. Restores run in two steps, top-level Services first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

VELERO_API = "velero.io/v1"
KNATIVE_GENERATED = (
    "configurations.serving.knative.dev",
    "revisions.serving.knative.dev",
    "routes.serving.knative.dev",
    "ingresses.networking.internal.knative.dev",
    "certificates.networking.internal.knative.dev",
    "serverlessservices.networking.internal.knative.dev",
    "podautoscalers.autoscaling.internal.knative.dev",
    "metrics.autoscaling.internal.knative.dev",
    "images.caching.internal.knative.dev",
    "subscriptions.messaging.knative.dev",
    "inmemorychannels.messaging.knative.dev",
    "deployments.apps",
    "replicasets.apps",
    "pods",
    "endpoints",
    "endpointslices.discovery.k8s.io",
    "events",
    "events.events.k8s.io",
)
# A backup keeps the pods: Velero runs backup hooks and file-system backups only for pods it
# backs up (velero file-system-backup.md, backup-hooks.md). Restores still leave them out:
# Knative's controllers create new pods from the restored Services.
BACKUP_EXCLUDED = tuple(resource for resource in KNATIVE_GENERATED if resource != "pods")
KEPT = (
    "services.serving.knative.dev",
    "brokers.eventing.knative.dev",
    "triggers.eventing.knative.dev",
    "pingsources.sources.knative.dev",
    "apiserversources.sources.knative.dev",
    "sinkbindings.sources.knative.dev",
    "containersources.sources.knative.dev",
    "secrets",
    "configmaps",
    "serviceaccounts",
    "roles.rbac.authorization.k8s.io",
    "rolebindings.rbac.authorization.k8s.io",
    "networkpolicies.networking.k8s.io",
    "persistentvolumeclaims",
    "externalsecrets.external-secrets.io",
)
FIRST_RESTORE = (
    "secrets",
    "configmaps",
    "serviceaccounts",
    "roles.rbac.authorization.k8s.io",
    "rolebindings.rbac.authorization.k8s.io",
    "networkpolicies.networking.k8s.io",
    "persistentvolumeclaims",
    "services.serving.knative.dev",
)
TERMINAL_OK = frozenset({"Completed"})
TERMINAL_FAILED = frozenset({"PartiallyFailed", "Failed", "FailedValidation"})
BACKUP_PHASES = frozenset(
    {"New", "Queued", "ReadyToStart", "FailedValidation", "InProgress",
     "WaitingForPluginOperations", "WaitingForPluginOperationsPartiallyFailed", "Finalizing",
     "FinalizingPartiallyFailed", "Completed", "PartiallyFailed", "Failed", "Deleting"}
)  # fmt: skip


def backup_spec(
    namespaces: Sequence[str], *, storage_location: str, ttl: str = "720h0m0s"
) -> dict[str, Any]:
    """A Backup spec with the Knative-aware scope (also a Schedule's template)."""
    return {
        "includedNamespaces": list(namespaces),
        "excludedResources": list(BACKUP_EXCLUDED),
        "includeClusterResources": False,
        "storageLocation": storage_location,
        "ttl": ttl,
        "snapshotVolumes": False,
        "defaultVolumesToFsBackup": True,
    }


def backup(
    name: str,
    namespaces: Sequence[str],
    *,
    velero_namespace: str = "velero",
    storage_location: str = "default",
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A Backup object."""
    return {
        "apiVersion": VELERO_API,
        "kind": "Backup",
        "metadata": {"name": name, "namespace": velero_namespace, "labels": dict(labels or {})},
        "spec": backup_spec(namespaces, storage_location=storage_location, ttl="24h0m0s"),
    }


def restore_plan(
    name: str, backup_name: str, mapping: Mapping[str, str], *, velero_namespace: str = "velero"
) -> list[dict[str, Any]]:
    """Two Restores: Services and what they need first, then eventing and the rest."""

    def restore(suffix: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": VELERO_API,
            "kind": "Restore",
            "metadata": {"name": f"{name}-{suffix}", "namespace": velero_namespace},
            "spec": {
                "backupName": backup_name,
                "includedNamespaces": list(mapping),
                "namespaceMapping": dict(mapping),
                "existingResourcePolicy": "none",
                "restorePVs": True,
                **spec,
            },
        }

    return [
        restore("services", {"includedResources": list(FIRST_RESTORE)}),
        restore("eventing", {"excludedResources": [*FIRST_RESTORE, *KNATIVE_GENERATED]}),
    ]


def phase_of(obj: Mapping[str, Any]) -> str:
    """``status.phase`` (``New`` when the server has not set one yet)."""
    return str((obj.get("status") or {}).get("phase") or "New")


def verdict(phase: str) -> str:
    """``pending``, ``succeeded`` or ``failed`` for a Backup/Restore phase."""
    if phase in TERMINAL_OK:
        return "succeeded"
    if phase in TERMINAL_FAILED:
        return "failed"
    return "pending"


def problems_of(obj: Mapping[str, Any]) -> str:
    """Warnings/errors counts of a Backup or Restore, for the report."""
    status = obj.get("status") or {}
    warnings, errors = status.get("warnings", 0), status.get("errors", 0)
    return f"phase {phase_of(obj)}, {warnings} warnings, {errors} errors"


def is_ready(obj: Mapping[str, Any]) -> bool:
    """A Knative resource whose Ready condition is True for its current generation."""
    status = obj.get("status") or {}
    generation = (obj.get("metadata") or {}).get("generation")
    if generation is not None and status.get("observedGeneration") not in (None, generation):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def inventory(items: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(kind, name) of listed objects."""
    return {(str(i.get("kind", "")), str((i.get("metadata") or {}).get("name", ""))) for i in items}


def missing_after_restore(
    source: Iterable[Mapping[str, Any]], restored: Iterable[Mapping[str, Any]]
) -> list[str]:
    """Kept objects of the source namespace that the restored namespace lacks."""
    gone = inventory(source) - inventory(restored)
    return sorted(f"{kind}/{name}" for kind, name in gone)
