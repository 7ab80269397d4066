"""The cluster rules by name, and running them all."""

from __future__ import annotations

from collections.abc import Callable

from . import argocd, pipelines, rbac, velero
from .inventory import ClusterProblem, Inventory

Rule = Callable[[Inventory], list[ClusterProblem]]
RULES: dict[str, tuple[Rule, str]] = {
    "velero-covers-function-namespaces": (
        velero.covers_function_namespaces,
        "every namespace that runs a Knative Service is in a Velero Schedule",
    ),
    "velero-hooks-select-backed-up-pods": (
        velero.hooks_select_backed_up_pods,
        "hooks and file-system backups keep pods in the backup; hooks select existing pods",
    ),
    "velero-storage-location-exists": (
        velero.storage_location_exists,
        "a Schedule writes to a storage location its variant defines (Velero or OADP)",
    ),
    "velero-restore-targets-function-namespaces": (
        velero.restores_target_function_namespaces,
        "Restores read namespaces the overlays deploy",
    ),
    "cluster-drill-runs-a-cluster-scenario": (
        velero.drills_run_backed_up_namespaces,
        "a scheduled cluster drill runs a scenario whose namespace is deployed and backed up",
    ),
    "pipeline-step-rbac": (
        pipelines.step_rbac,
        "each pipeline step's ServiceAccount holds the RBAC its declared calls need",
    ),
    "rbac-role-exists": (rbac.role_exists, "a binding's Role or ClusterRole exists"),
    "scheduled-workflow-files-exist": (
        pipelines.workflow_files_exist,
        "repository paths that workflows pass as parameters exist",
    ),
    "rwo-workspace-not-shared-in-parallel": (
        pipelines.rwo_workspaces_sequential,
        "no two DAG tasks that may run at once mount one ReadWriteOnce claim",
    ),
    "appproject-allows-applications": (
        argocd.project_allows,
        "the AppProject allows every kind and namespace its Applications render",
    ),
}


def check(inventory: Inventory) -> list[ClusterProblem]:
    """Every rule's problems, rule by rule."""
    problems: list[ClusterProblem] = []
    for rule, _ in RULES.values():
        problems += rule(inventory)
    return problems
