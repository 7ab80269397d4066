"""Velero rules: coverage of function namespaces, hooks, storage locations, restores, drills."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from ..kube.selectors import matches
from .inventory import (
    ClusterProblem,
    Inventory,
    is_ksvc,
    ksvc_namespaces,
    label,
    name_of,
    namespace_of,
    pod_labels,
)

VELERO = "velero.io"


def _includes(spec: Mapping[str, Any], namespace: str) -> bool:
    included = spec.get("includedNamespaces") or ["*"]
    excluded = spec.get("excludedNamespaces") or []
    return ("*" in included or namespace in included) and namespace not in excluded


def _backs_up_pods(spec: Mapping[str, Any]) -> bool:
    included = spec.get("includedResources") or ["*"]
    excluded = spec.get("excludedResources") or []
    return ("*" in included or "pods" in included) and "pods" not in excluded


def covers_function_namespaces(inventory: Inventory) -> list[ClusterProblem]:
    """Every namespace that runs a Knative Service is in every Velero variant's Schedules."""
    namespaces = ksvc_namespaces(inventory)
    problems: list[ClusterProblem] = []
    by_source: dict[str, list[dict[str, Any]]] = {}
    for source, schedule in inventory.of_kind(VELERO, "Schedule"):
        by_source.setdefault(source.name, []).append(schedule)
    for source_name, schedules in by_source.items():
        for namespace, runners in sorted(namespaces.items()):
            specs = [(s, (s.get("spec") or {}).get("template") or {}) for s in schedules]
            if any(_includes(spec, namespace) for _, spec in specs):
                continue
            names = ", ".join(name_of(s) for s, _ in specs)
            problems.append(
                ClusterProblem(
                    "velero-covers-function-namespaces",
                    source_name,
                    f"Schedule {names}",
                    f"namespace {namespace} runs Knative Services ({', '.join(runners)}) "
                    "but no Schedule backs it up",
                    f"add {namespace} to spec.template.includedNamespaces "
                    "(disaster-recovery/velero/schedule-functions.yaml)",
                )
            )
    return problems


def hooks_select_backed_up_pods(inventory: Inventory) -> list[ClusterProblem]:
    """Hooks and file-system backups need the pods in the backup, and hooks need pods."""
    problems: list[ClusterProblem] = []
    services = [d for _, d in inventory.documents() if is_ksvc(d)]
    for source, schedule in inventory.of_kind(VELERO, "Schedule"):
        spec = (schedule.get("spec") or {}).get("template") or {}
        hooks = ((spec.get("hooks") or {}).get("resources")) or []
        uses_pods = bool(hooks) or spec.get("defaultVolumesToFsBackup") is True
        if uses_pods and not _backs_up_pods(spec):
            problems.append(
                ClusterProblem(
                    "velero-hooks-select-backed-up-pods",
                    source.name,
                    label(schedule),
                    "it uses backup hooks or file-system backups but leaves pods out of the "
                    "backup, and Velero runs both only for the pods it backs up",
                    "remove pods from spec.template.excludedResources (restores may still "
                    "exclude them)",
                )
            )
        for hook in hooks:
            selector = hook.get("labelSelector")
            selected = [
                d
                for d in services
                if _includes(hook, namespace_of(d, "default"))
                and _includes(spec, namespace_of(d, "default"))
                and (selector is None or matches(selector, pod_labels(d)))
            ]
            if services and not selected:
                problems.append(
                    ClusterProblem(
                        "velero-hooks-select-backed-up-pods",
                        source.name,
                        f"{label(schedule)} hook {hook.get('name')}",
                        f"its labelSelector {selector} selects no pod of any Knative Service "
                        "in the namespaces it covers, so it never runs",
                        "label the pod templates it should dump (spec.template.metadata.labels "
                        "of the Services) or fix the selector",
                    )
                )
    return problems


def _locations(inventory: Inventory, source_name: str) -> dict[str, set[str]]:
    """Namespace -> BackupStorageLocation names a source defines (OADP DPAs included)."""
    found: dict[str, set[str]] = {}
    for source, document in inventory.documents():
        if source.name != source_name:
            continue
        namespace = namespace_of(document)
        if document.get("kind") == "BackupStorageLocation":
            found.setdefault(namespace, set()).add(name_of(document))
        if document.get("kind") == "DataProtectionApplication":
            for index, entry in enumerate(
                (document.get("spec") or {}).get("backupLocations") or []
            ):
                # OADP names an unnamed location <dpa>-<n>.
                name = entry.get("name") or f"{name_of(document)}-{index + 1}"
                found.setdefault(namespace, set()).add(str(name))
    return found


def storage_location_exists(inventory: Inventory) -> list[ClusterProblem]:
    """A Schedule writes to a BackupStorageLocation its variant defines, in its namespace."""
    problems: list[ClusterProblem] = []
    for source, schedule in inventory.of_kind(VELERO, "Schedule"):
        wanted = str(
            ((schedule.get("spec") or {}).get("template") or {}).get("storageLocation") or "default"
        )
        namespace = namespace_of(schedule)
        locations = _locations(inventory, source.name)
        if not locations:
            continue  # the location is installed elsewhere; nothing to compare with here
        if wanted not in locations.get(namespace, set()):
            known = ", ".join(
                f"{ns}/{n}" for ns, names in sorted(locations.items()) for n in sorted(names)
            )
            problems.append(
                ClusterProblem(
                    "velero-storage-location-exists",
                    source.name,
                    label(schedule),
                    f"it writes to storage location {wanted!r} in {namespace or '(no namespace)'}, "
                    f"which this variant does not define (it has {known})",
                    "name the location (BackupStorageLocation, or the DataProtectionApplication's "
                    "backupLocations[].name) and the Schedule's storageLocation alike, in one "
                    "namespace",
                )
            )
    return problems


def restores_target_function_namespaces(inventory: Inventory) -> list[ClusterProblem]:
    """Restores read namespaces that run functions (and map them somewhere else)."""
    namespaces = ksvc_namespaces(inventory)
    if not namespaces:
        return []
    problems: list[ClusterProblem] = []
    for source, restore in inventory.of_kind(VELERO, "Restore"):
        spec = restore.get("spec") or {}
        for namespace in spec.get("includedNamespaces") or []:
            if namespace != "*" and namespace not in namespaces:
                problems.append(
                    ClusterProblem(
                        "velero-restore-targets-function-namespaces",
                        source.name,
                        label(restore),
                        f"it restores namespace {namespace}, which no overlay deploys "
                        f"(functions run in {', '.join(sorted(namespaces))})",
                        "restore one of those namespaces (and map it, for a drill)",
                    )
                )
    return problems


def drills_run_backed_up_namespaces(inventory: Inventory) -> list[ClusterProblem]:
    """A scheduled cluster drill runs a scenario whose namespace the cluster backs up."""
    if inventory.root is None:
        return []
    covered = {
        namespace
        for _, schedule in inventory.of_kind(VELERO, "Schedule")
        for namespace in (
            ((schedule.get("spec") or {}).get("template") or {}).get("includedNamespaces") or []
        )
    }
    deployed = set(ksvc_namespaces(inventory))
    problems: list[ClusterProblem] = []
    for source, workflow, value in _drill_scenarios(inventory):
        path = inventory.root / value
        if not path.is_file():
            continue  # scheduled-workflow-files-exist reports it
        try:
            scenario = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            continue
        service = str((scenario.get("subscriber") or {}).get("service", ""))
        namespace = service.partition("/")[0]
        missing = [
            w
            for w, ok in (
                ("deployed by an overlay", namespace in deployed),
                ("backed up by a Schedule", namespace in covered),
            )
            if not ok
        ]
        if missing:
            problems.append(
                ClusterProblem(
                    "cluster-drill-runs-a-cluster-scenario",
                    source.name,
                    label(workflow),
                    f"it drills {value}, whose namespace {namespace or '(none)'} is not "
                    f"{' nor '.join(missing)}: the drill cannot back it up on the cluster",
                    "point the scenario parameter at a cluster scenario "
                    "(disaster-recovery/drills/cluster.yaml)",
                )
            )
    return problems


def _drill_scenarios(inventory: Inventory) -> list[tuple[Any, dict[str, Any], str]]:
    found = []
    for source, document in inventory.documents():
        if document.get("kind") not in ("CronWorkflow", "WorkflowTemplate", "Workflow"):
            continue
        spec = document.get("spec") or {}
        spec = spec.get("workflowSpec", spec)
        for parameter in ((spec.get("arguments") or {}).get("parameters")) or []:
            value = str(parameter.get("value", ""))
            if value.startswith("disaster-recovery/drills/") and value.endswith((".yaml", ".yml")):
                found.append((source, document, value))
    return found
