"""Pipeline rules: step RBAC, files scheduled workflows name, ReadWriteOnce workspaces."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .inventory import ClusterProblem, Inventory, Source, label, namespace_of
from .rbac import Need, holds, parse_needs

NEEDS = "bulut.dev/rbac-needs"
SERVICE_ACCOUNT = "bulut.dev/service-account"
ARGO = "argoproj.io"
TEKTON = "tekton.dev"
WORKFLOW_KINDS = ("WorkflowTemplate", "CronWorkflow", "Workflow")
# What every Argo Workflows pod's executor does (its documented minimum RBAC).
EXECUTOR = "create,patch workflowtaskresults.argoproj.io"
POD_TEMPLATE_KEYS = ("container", "script", "resource", "containerSet", "data", "http")
# ServiceAccounts that a platform creates in every namespace.
IMPLICIT_ACCOUNTS = frozenset({"default", "pipeline"})
_REPO_PATH = re.compile(r"^[\w.-]+(/[\w.-]+)+\.(ya?ml|json|py|sh|toml)$")


def _workflow_spec(document: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = document.get("spec") or {}
    return spec.get("workflowSpec", spec) if document.get("kind") == "CronWorkflow" else spec


def _accounts(inventory: Inventory) -> set[tuple[str, str]]:
    return {
        (namespace_of(d), str((d.get("metadata") or {}).get("name")))
        for _, d in inventory.of_kind("", "ServiceAccount")
    }


def _missing(
    inventory: Inventory,
    source: Source,
    subject: str,
    account: str,
    namespace: str,
    needs: list[Need],
) -> list[ClusterProblem]:
    problems: list[ClusterProblem] = []
    if (namespace, account) not in _accounts(inventory) and account not in IMPLICIT_ACCOUNTS:
        problems.append(
            ClusterProblem(
                "pipeline-step-rbac",
                source.name,
                subject,
                f"it runs as ServiceAccount {namespace}/{account}, which is not defined",
                "define the ServiceAccount (pipelines/rbac.py) or name one that exists",
            )
        )
        return problems
    for need in needs:
        lacking = holds(inventory, account, namespace, need)
        if lacking:
            problems.append(
                ClusterProblem(
                    "pipeline-step-rbac",
                    source.name,
                    subject,
                    f"its ServiceAccount {namespace}/{account} needs {need} but is not "
                    f"granted {','.join(lacking)}",
                    f"grant {','.join(lacking)} on {need.resource}"
                    f"{'.' + need.group if need.group else ''} to {namespace}/{account} with a "
                    "Role and RoleBinding (pipelines/rbac.py), or declare the step's real needs "
                    "(pipelines/access.py)",
                )
            )
    return problems


def step_rbac(inventory: Inventory) -> list[ClusterProblem]:
    """Each step's ServiceAccount holds the RBAC its declared calls need."""
    problems: list[ClusterProblem] = []
    for source, document in inventory.documents():
        kind = document.get("kind")
        if kind in WORKFLOW_KINDS and str(document.get("apiVersion", "")).startswith(ARGO):
            spec = _workflow_spec(document)
            namespace = namespace_of(document, "default")
            default = str(spec.get("serviceAccountName") or "default")
            for template in spec.get("templates") or []:
                if not any(template.get(key) is not None for key in POD_TEMPLATE_KEYS):
                    continue
                account = str(template.get("serviceAccountName") or default)
                annotations = (template.get("metadata") or {}).get("annotations") or {}
                text = "\n".join(filter(None, [EXECUTOR, str(annotations.get(NEEDS, ""))]))
                subject = f"{label(document)} template {template.get('name')}"
                problems += _missing(
                    inventory, source, subject, account, namespace, parse_needs(text, namespace)
                )
        elif kind == "Pipeline" and str(document.get("apiVersion", "")).startswith(TEKTON):
            problems += _tekton(inventory, source, document)
    return problems


def _tekton(
    inventory: Inventory, source: Source, pipeline: Mapping[str, Any]
) -> list[ClusterProblem]:
    namespace = namespace_of(pipeline, "default")
    account = str(
        ((pipeline.get("metadata") or {}).get("annotations") or {}).get(SERVICE_ACCOUNT)
        or "default"
    )
    tasks = {
        str((d.get("metadata") or {}).get("name")): d
        for _, d in inventory.of_kind(TEKTON, "Task")
        if namespace_of(d, "default") == namespace
    }
    problems: list[ClusterProblem] = []
    spec = pipeline.get("spec") or {}
    for entry in [*(spec.get("tasks") or []), *(spec.get("finally") or [])]:
        task = tasks.get(str((entry.get("taskRef") or {}).get("name")))
        if task is None:
            continue
        text = str(((task.get("metadata") or {}).get("annotations") or {}).get(NEEDS, ""))
        if not text:
            continue
        subject = f"{label(pipeline)} task {entry.get('name')}"
        problems += _missing(
            inventory, source, subject, account, namespace, parse_needs(text, namespace)
        )
    return problems


def workflow_files_exist(inventory: Inventory) -> list[ClusterProblem]:
    """Repository paths that workflows pass as parameters exist (a scheduled run finds them)."""
    if inventory.root is None:
        return []
    problems: list[ClusterProblem] = []
    for source, document in inventory.documents():
        if document.get("kind") not in WORKFLOW_KINDS:
            continue
        for parameter in (
            (_workflow_spec(document).get("arguments") or {}).get("parameters")
        ) or []:
            value = str(parameter.get("value", ""))
            if _REPO_PATH.match(value) and not (inventory.root / value).exists():
                problems.append(
                    ClusterProblem(
                        "scheduled-workflow-files-exist",
                        source.name,
                        f"{label(document)} parameter {parameter.get('name')}",
                        f"it names {value}, which does not exist in the repository",
                        "point it at an existing file, or add the file",
                    )
                )
    return problems


def _mounts_claim(template: Mapping[str, Any], claim: str) -> bool:
    for key in ("container", "script"):
        body = template.get(key) or {}
        if any(m.get("name") == claim for m in body.get("volumeMounts") or []):
            return True
    return False


def _co_located(spec: Mapping[str, Any]) -> bool:
    terms = ((spec.get("affinity") or {}).get("podAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or []
    return any(term.get("topologyKey") == "kubernetes.io/hostname" for term in terms)


def _ancestors(tasks: Mapping[str, set[str]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}

    def walk(name: str) -> set[str]:
        if name not in found:
            found[name] = set()
            for parent in tasks.get(name, set()):
                found[name] |= {parent, *walk(parent)}
        return found[name]

    for name in tasks:
        walk(name)
    return found


def _depends(task: Mapping[str, Any]) -> set[str]:
    names = set(task.get("dependencies") or [])
    expression = str(task.get("depends") or "")
    names |= {
        word.split(".")[0]
        for word in re.findall(r"[\w-]+(?:\.\w+)?", expression)
        if word not in ("&&", "||")
    }
    return names


def rwo_workspaces_sequential(inventory: Inventory) -> list[ClusterProblem]:
    """Two DAG tasks that may run at once never both mount a ReadWriteOnce claim."""
    problems: list[ClusterProblem] = []
    for source, document in inventory.documents():
        if document.get("kind") not in WORKFLOW_KINDS:
            continue
        spec = _workflow_spec(document)
        claims = [
            str((c.get("metadata") or {}).get("name"))
            for c in spec.get("volumeClaimTemplates") or []
            if "ReadWriteOnce" in ((c.get("spec") or {}).get("accessModes") or [])
        ]
        if not claims or _co_located(spec):
            continue
        templates = {str(t.get("name")): t for t in spec.get("templates") or []}
        for template in templates.values():
            dag = (template.get("dag") or {}).get("tasks") or []
            parents = {str(t.get("name")): _depends(t) for t in dag}
            ancestors = _ancestors(parents)
            for claim in claims:
                users = [
                    str(t.get("name"))
                    for t in dag
                    if _mounts_claim(templates.get(str(t.get("template")), {}), claim)
                ]
                for index, first in enumerate(users):
                    for second in users[index + 1 :]:
                        if first in ancestors[second] or second in ancestors[first]:
                            continue
                        problems.append(
                            ClusterProblem(
                                "rwo-workspace-not-shared-in-parallel",
                                source.name,
                                f"{label(document)} tasks {first}, {second}",
                                f"both mount the ReadWriteOnce claim {claim!r} and may run at "
                                "once; on different nodes the second pod cannot attach it",
                                "order them (depends), or keep every pod of the workflow on one "
                                "node (spec.affinity.podAffinity on kubernetes.io/hostname)",
                            )
                        )
    return problems
