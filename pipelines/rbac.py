"""Namespace, ServiceAccounts and the least RBAC each pipeline needs, as plain manifests.

One ServiceAccount per pipeline (reference/cluster-ops.md §2.4):

- every workflow pod's executor reports results: ``create``/``patch`` on
  ``workflowtaskresults`` (Argo Workflows' documented minimum for executor RBAC);
- ``function-ci-builder`` runs only the buildah steps and may ``use`` OpenShift Pipelines'
  ``pipelines-scc`` (rootless buildah needs SETFCAP, which restricted-v2 does not grant);
- ``promote`` reads Argo CD Applications in the Argo CD namespace, nothing else;
- ``ci-dispatch`` and the Sensor's ``ci-sensor`` create Workflows in the CI namespace;
- ``dr-drill`` drives Velero in the OADP namespace (Backups, Restores, and deleting its
  Restores), lists the kept objects of the drilled namespace, and reads and deletes the
  ``<namespace>-drill`` namespace the restore creates. That namespace does not exist before
  the drill, so no RoleBinding can be placed in it ahead of time: the Role ``dr-drill-source``
  in the drilled namespace (read of the compared kinds, GET through ``services/proxy``) and
  its RoleBinding are *restored* into it by the drill's own Velero restore (Roles and
  RoleBindings are in its first restore), so the drill holds there exactly what it holds in
  the source. The only cluster-scoped grant is deleting that one namespace. (Session 2
  replaced a cluster-wide read ClusterRole, Secrets of every namespace included.)

Secrets (``registry-credentials``, ``gitops-token``, ``github-webhook``) are not in Git:
create them out of band or with External Secrets from Vault.
"""

from __future__ import annotations

from typing import Any

NAMESPACE = "shop-ci"
ARGOCD_NAMESPACE = "openshift-gitops"
VELERO_NAMESPACE = "openshift-adp"
RUNNER = "function-ci"
BUILDER = "function-ci-builder"
PROMOTER = "promote"
DISPATCHER = "ci-dispatch"
SENSOR = "ci-sensor"
DRILL = "dr-drill"
DRILL_SOURCE = "shop-dev"  # the namespace disaster-recovery/drills/cluster.yaml drills
EXECUTOR_RULE = {
    "apiGroups": ["argoproj.io"],
    "resources": ["workflowtaskresults"],
    "verbs": ["create", "patch"],
}
Manifest = dict[str, Any]


def _meta(name: str, namespace: str = NAMESPACE) -> Manifest:
    return {
        "name": name,
        "namespace": namespace,
        "labels": {"app.kubernetes.io/part-of": "bulut-pipelines"},
    }


def service_account(name: str) -> Manifest:
    """A ServiceAccount in the CI namespace."""
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name)}


def role(name: str, rules: list[Manifest], namespace: str = NAMESPACE) -> Manifest:
    """A namespaced Role."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _meta(name, namespace),
        "rules": rules,
    }


def binding(name: str, subject: str, namespace: str = NAMESPACE) -> Manifest:
    """Bind Role ``name`` (in ``namespace``) to a ServiceAccount of the CI namespace."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _meta(name, namespace),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": subject, "namespace": NAMESPACE}],
    }


def cluster_role(name: str, rules: list[Manifest]) -> Manifest:
    """A ClusterRole."""
    meta = _meta(name)
    del meta["namespace"]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": meta,
        "rules": rules,
    }


def cluster_binding(name: str, subject: str) -> Manifest:
    """Bind ClusterRole ``name`` cluster-wide to a ServiceAccount of the CI namespace."""
    meta = _meta(name)
    del meta["namespace"]
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": subject, "namespace": NAMESPACE}],
    }


def namespace() -> Manifest:
    """The CI namespace (pods there meet restricted-v2; the builder's SCC is granted below)."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": NAMESPACE,
            "labels": {
                "app.kubernetes.io/part-of": "bulut-pipelines",
                "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/warn": "restricted",
            },
        },
    }


def grant(
    name: str, rules: list[Manifest], *, subject: str | None = None, namespace: str = NAMESPACE
) -> list[Manifest]:
    """A Role and its binding to ServiceAccount ``subject`` (default: the same name)."""
    return [role(name, rules, namespace), binding(name, subject or name, namespace)]


def manifests() -> list[Manifest]:
    """Everything the Argo Workflows pipelines need, in apply order."""
    create_workflows = {
        "apiGroups": ["argoproj.io"],
        "resources": ["workflows"],
        "verbs": ["create", "get"],
    }
    use_pipelines_scc = {
        "apiGroups": ["security.openshift.io"],
        "resources": ["securitycontextconstraints"],
        "resourceNames": ["pipelines-scc"],
        "verbs": ["use"],
    }
    read_applications = {
        "apiGroups": ["argoproj.io"],
        "resources": ["applications"],
        "verbs": ["get", "list", "watch"],
    }
    velero = [
        {
            "apiGroups": ["velero.io"],
            "resources": ["backups", "schedules", "backupstoragelocations"],
            "verbs": ["get", "list", "watch", "create"],
        },
        {
            "apiGroups": ["velero.io"],
            "resources": ["restores"],
            "verbs": ["get", "list", "watch", "create", "delete"],
        },
    ]
    compared = [
        {
            "apiGroups": [""],
            "resources": ["configmaps", "secrets", "serviceaccounts"],
            "verbs": ["get", "list"],
        },
        {"apiGroups": ["serving.knative.dev"], "resources": ["services"], "verbs": ["get", "list"]},
        {
            "apiGroups": ["eventing.knative.dev"],
            "resources": ["brokers", "triggers"],
            "verbs": ["get", "list"],
        },
    ]
    drill_source = [
        *compared,
        {"apiGroups": [""], "resources": ["services/proxy"], "verbs": ["get"]},
    ]
    delete_drill_namespace = {
        "apiGroups": [""],
        "resources": ["namespaces"],
        "resourceNames": [f"{DRILL_SOURCE}-drill"],
        "verbs": ["delete"],
    }
    return [
        namespace(),
        *(service_account(n) for n in (RUNNER, BUILDER, PROMOTER, DISPATCHER, SENSOR, DRILL)),
        *grant(RUNNER, [EXECUTOR_RULE]),
        *grant(BUILDER, [EXECUTOR_RULE, use_pipelines_scc]),
        *grant(PROMOTER, [EXECUTOR_RULE]),
        *grant(
            f"{PROMOTER}-argocd",
            [read_applications],
            subject=PROMOTER,
            namespace=ARGOCD_NAMESPACE,
        ),
        *grant(DISPATCHER, [EXECUTOR_RULE, create_workflows]),
        *grant(SENSOR, [create_workflows]),
        *grant(DRILL, [EXECUTOR_RULE]),
        *grant(f"{DRILL}-velero", velero, subject=DRILL, namespace=VELERO_NAMESPACE),
        *grant(f"{DRILL}-source", drill_source, subject=DRILL, namespace=DRILL_SOURCE),
        cluster_role(f"{DRILL}-target", [delete_drill_namespace]),
        cluster_binding(f"{DRILL}-target", DRILL),
    ]
