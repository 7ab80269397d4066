"""Argo CD rule: an AppProject allows every kind and namespace its Applications render.

Applications come from ``Application`` objects and from ``ApplicationSet`` s with a ``git``
directories generator or a ``list`` generator (``{{.path.path}}``/``{{.path.basename}}`` and
element keys are filled in, as goTemplate does). Each Application's source path is rendered
(``kubectl kustomize``) and every object checked against its project: destinations (server
and namespace globs), ``clusterResourceWhitelist`` for cluster-scoped kinds (empty allows
none), ``namespaceResourceWhitelist`` (when set) and ``namespaceResourceBlacklist``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any

from .inventory import ClusterProblem, Inventory, group_of, label, name_of

ARGO = "argoproj.io"
CLUSTER_SCOPED = frozenset(
    {
        "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
        "PersistentVolume", "StorageClass", "PriorityClass", "ClusterWorkflowTemplate",
        "ClusterSecretStore", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
        "ClusterServiceVersion", "SecurityContextConstraints", "APIService", "IngressClass",
    }
)  # fmt: skip
_FIELD = re.compile(r"\{\{\s*\.?([\w.]+)\s*\}\}")


def _fill(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), value)
    if isinstance(value, Mapping):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value


def _generated(inventory: Inventory, appset: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Applications an ApplicationSet makes (git directories and list generators)."""
    spec = appset.get("spec") or {}
    template = spec.get("template") or {}
    apps: list[dict[str, Any]] = []
    for generator in spec.get("generators") or []:
        rows: list[dict[str, str]] = []
        for entry in ((generator.get("git") or {}).get("directories")) or []:
            if inventory.root is None or entry.get("exclude"):
                continue
            for folder in sorted(inventory.root.glob(str(entry.get("path")))):
                if folder.is_dir():
                    relative = folder.relative_to(inventory.root).as_posix()
                    rows.append(
                        {"path.path": relative, "path.basename": folder.name, "path": relative}
                    )
        for element in ((generator.get("list") or {}).get("elements")) or []:
            rows.append({str(k): str(v) for k, v in element.items()})
        apps += [
            {"kind": "Application", "metadata": {}, "spec": {}} | _fill(template, row)
            for row in rows
        ]
    return apps


def _allowed(entries: list[Any], group: str, kind: str) -> bool:
    return any(
        fnmatch.fnmatchcase(group, str(e.get("group", "")))
        and fnmatch.fnmatchcase(kind, str(e.get("kind", "")))
        for e in entries
    )


def project_allows(inventory: Inventory) -> list[ClusterProblem]:
    """Every rendered object of every Application fits its AppProject."""
    projects = {name_of(d): d for _, d in inventory.of_kind(ARGO, "AppProject")}
    problems: list[ClusterProblem] = []
    candidates: list[tuple[Any, dict[str, Any]]] = []
    for source, document in inventory.documents():
        if group_of(document) != ARGO:
            continue
        if document.get("kind") == "Application":
            candidates.append((source, document))
        elif document.get("kind") == "ApplicationSet":
            candidates += [(source, app) for app in _generated(inventory, document)]
    for source, app in candidates:
        spec = app.get("spec") or {}
        project = projects.get(str(spec.get("project", "default")))
        path = str((spec.get("source") or {}).get("path") or "")
        if project is None or not path:
            continue
        rendered = inventory.render_path(path)
        if rendered is None:
            continue
        destination = spec.get("destination") or {}
        subject = f"Application {name_of(app)} ({path})"
        problems += _check_objects(source.name, subject, project, destination, rendered)
    return problems


def _check_objects(
    source: str,
    subject: str,
    project: Mapping[str, Any],
    destination: Mapping[str, Any],
    rendered: list[dict[str, Any]],
) -> list[ClusterProblem]:
    spec = project.get("spec") or {}
    problems: list[ClusterProblem] = []
    seen: set[tuple[str, ...]] = set()
    for document in rendered:
        kind, group = str(document.get("kind")), group_of(document)
        if kind in CLUSTER_SCOPED:
            if not _allowed(spec.get("clusterResourceWhitelist") or [], group, kind):
                key = ("cluster", group, kind)
                if key not in seen:
                    seen.add(key)
                    problems.append(
                        _problem(
                            source,
                            subject,
                            project,
                            f"renders cluster-scoped {group or 'core'}/{kind}, which "
                            "clusterResourceWhitelist does not allow",
                            "add {group, kind} to spec.clusterResourceWhitelist",
                        )
                    )
            continue
        whitelist = spec.get("namespaceResourceWhitelist")
        denied = (whitelist is not None and not _allowed(whitelist, group, kind)) or _allowed(
            spec.get("namespaceResourceBlacklist") or [], group, kind
        )
        if denied and ("kind", group, kind) not in seen:
            seen.add(("kind", group, kind))
            problems.append(
                _problem(
                    source,
                    subject,
                    project,
                    f"renders {group or 'core'}/{kind} ({label(document)}), which the project "
                    "does not allow",
                    "add {group, kind} to spec.namespaceResourceWhitelist",
                )
            )
        namespace = str(
            (document.get("metadata") or {}).get("namespace") or destination.get("namespace") or ""
        )
        server = str(destination.get("server") or "")
        fits = any(
            fnmatch.fnmatchcase(namespace, str(d.get("namespace", "*")))
            and fnmatch.fnmatchcase(server, str(d.get("server", "*")))
            for d in spec.get("destinations") or []
        )
        if not fits and ("ns", namespace) not in seen:
            seen.add(("ns", namespace))
            problems.append(
                _problem(
                    source,
                    subject,
                    project,
                    f"deploys into namespace {namespace or '(none)'} on {server}, which no "
                    "destination allows",
                    "add the namespace (or a glob) to spec.destinations",
                )
            )
    return problems


def _problem(
    source: str, subject: str, project: Mapping[str, Any], message: str, fix: str
) -> ClusterProblem:
    return ClusterProblem(
        "appproject-allows-applications",
        source,
        subject,
        f"{message} (AppProject {name_of(project)})",
        fix,
    )
