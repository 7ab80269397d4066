"""What exists in the repository and its rendered overlays: paths, namespaces, resources,
Vault policies. Cluster-only blocks may name only these (or what a cluster always has)."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from .blocks import REPO

KUBECTL = str(Path(sys.executable).parent / "kubectl")
OVERLAYS = ("dev", "staging", "prod")
# Namespaces a cluster has without this repository: Kubernetes' own and those the
# OpenShift operators create (gitops/platform installs the operators, they make these).
CLUSTER_NAMESPACES = frozenset(
    {
        "default",
        "kube-system",
        "knative-serving-ingress",  # Serverless operator, Kourier
        "openshift-gitops",  # GitOps operator's default Argo CD
        "openshift-monitoring",
    }
)
# kubectl/oc short names and plurals of the kinds the docs name as TYPE/NAME.
KIND_ALIASES = {
    "ksvc": "Service", "knativeserving": "KnativeServing", "knativeeventing": "KnativeEventing",
    "workflowtemplate": "WorkflowTemplate", "cronwf": "CronWorkflow",
    "cronworkflow": "CronWorkflow", "deployment": "Deployment", "secret": "Secret",
    "application": "Application", "applicationset": "ApplicationSet", "broker": "Broker",
    "trigger": "Trigger", "pipeline": "Pipeline", "schedule": "Schedule",
}  # fmt: skip


def _documents_in(path: Path) -> Iterator[dict[str, Any]]:
    try:
        loaded = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except yaml.YAMLError:
        return
    for document in loaded:
        if isinstance(document, dict):
            yield document


@functools.cache
def repository_objects() -> tuple[dict[str, Any], ...]:
    """Every object in the repository's YAML, and every object of the rendered overlays."""
    found: list[dict[str, Any]] = []
    for folder in ("gitops", "disaster-recovery", "pipelines"):
        for path in sorted((REPO / folder).rglob("*.yaml")):
            found.extend(_documents_in(path))
    for overlay in OVERLAYS:
        built = subprocess.run(
            [KUBECTL, "kustomize", str(REPO / "gitops" / "overlays" / overlay)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        found.extend(d for d in yaml.safe_load_all(built) if isinstance(d, dict))
    return tuple(found)


@functools.cache
def namespaces() -> frozenset[str]:
    """Namespaces the repository creates or puts objects in, and the cluster's own."""
    names = set(CLUSTER_NAMESPACES)
    for document in repository_objects():
        meta = document.get("metadata") or {}
        if not isinstance(meta, dict):
            continue
        if document.get("kind") == "Namespace" and meta.get("name"):
            names.add(str(meta["name"]))
        if meta.get("namespace"):
            names.add(str(meta["namespace"]))
        if document.get("kind") == "Kustomization" and document.get("namespace"):
            names.add(str(document["namespace"]))
    return frozenset(names)


@functools.cache
def resources() -> frozenset[tuple[str, str]]:
    """(kind, name) of every object in the repository and the rendered overlays."""
    return frozenset(
        (str(d.get("kind")), str((d.get("metadata") or {}).get("name")))
        for d in repository_objects()
        if isinstance(d.get("metadata"), dict)
    )


def vault_policies() -> frozenset[str]:
    """Policy names: the HCL files the dev Vault and the cluster load."""
    folder = REPO / "gitops" / "platform" / "vault" / "policies"
    return frozenset(path.stem for path in folder.glob("*.hcl"))
