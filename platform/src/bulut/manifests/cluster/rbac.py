"""RBAC evaluation: which rules a ServiceAccount holds where, and bindings' role references."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .inventory import ClusterProblem, Inventory, label, name_of, namespace_of

RBAC = "rbac.authorization.k8s.io"
# ClusterRoles every cluster has (user-facing defaults; system:* roles are matched by prefix),
# and those the operators this project installs create (OpenShift Logging 6: the collector's).
BUILT_IN_CLUSTER_ROLES = frozenset(
    {
        "admin", "edit", "view", "cluster-admin",
        "collect-application-logs", "collect-infrastructure-logs", "collect-audit-logs",
        "logging-collector-logs-writer",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Need:
    """One API call a step makes: verbs on ``group``/``resource`` in ``namespace``.

    An empty ``namespace`` is a cluster-scoped resource; ``name`` an object it names.
    ``restored_from``: the namespace does not exist before the step, which makes it by a
    Velero restore of that namespace (namespace mapping), so its Roles and RoleBindings are
    the source's, copied by the restore: the need is evaluated against those.
    """

    verbs: tuple[str, ...]
    group: str
    resource: str
    namespace: str
    name: str = ""
    restored_from: str = ""

    def __str__(self) -> str:
        where = f" in {self.namespace}" if self.namespace else " (cluster-scoped)"
        if self.restored_from:
            where += f" (restored from {self.restored_from})"
        qualified = f"{self.resource}.{self.group}" if self.group else self.resource
        named = f" {self.name}" if self.name else ""
        return f"{','.join(self.verbs)} {qualified}{named}{where}"


def parse_needs(text: str, default_namespace: str) -> list[Need]:
    """``<verbs> <resources> [--name <n>] [-n <ns> [--restored-from <ns>] | --cluster-scoped]``
    lines into Needs."""
    needs: list[Need] = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 2:
            continue
        namespace = default_namespace
        if "-n" in words:
            namespace = words[words.index("-n") + 1]
        if "--cluster-scoped" in words:
            namespace = ""
        name = words[words.index("--name") + 1] if "--name" in words else ""
        source = words[words.index("--restored-from") + 1] if "--restored-from" in words else ""
        for qualified in words[1].split(","):
            resource, _, group = qualified.partition(".")
            if "/" in group:  # resource.group/subresource
                group, _, sub = group.partition("/")
                resource = f"{resource}/{sub}"
            verbs = tuple(words[0].split(","))
            needs.append(Need(verbs, group, resource, namespace, name, source))
    return needs


def _rule_allows(rule: Mapping[str, Any], need: Need, verb: str) -> bool:
    groups, resources = rule.get("apiGroups") or [], rule.get("resources") or []
    verbs, names = rule.get("verbs") or [], rule.get("resourceNames") or []
    return (
        ("*" in groups or need.group in groups)
        and ("*" in resources or need.resource in resources)
        and ("*" in verbs or verb in verbs)
        and (not names or need.name in names)  # rules limited to names cover only those
    )


def _subject_is(subject: Mapping[str, Any], account: str, namespace: str, binding_ns: str) -> bool:
    return (
        subject.get("kind") == "ServiceAccount"
        and subject.get("name") == account
        and (subject.get("namespace") or binding_ns) == namespace
    )


def holds(inventory: Inventory, account: str, namespace: str, need: Need) -> list[str]:
    """The verbs of ``need`` that ServiceAccount ``namespace/account`` is not granted (in a
    restored namespace: by the RoleBindings the restore copies there)."""
    roles = {(namespace_of(d), name_of(d)): d for _, d in inventory.of_kind(RBAC, "Role")}
    cluster_roles = {name_of(d): d for _, d in inventory.of_kind(RBAC, "ClusterRole")}
    granted: list[Mapping[str, Any]] = []
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        for _, binding in inventory.of_kind(RBAC, kind):
            where = namespace_of(binding)
            if kind == "RoleBinding" and where != (need.restored_from or need.namespace):
                continue
            if not any(
                _subject_is(s, account, namespace, where) for s in binding.get("subjects") or []
            ):
                continue
            ref = binding.get("roleRef") or {}
            role = (
                roles.get((where, str(ref.get("name"))))
                if ref.get("kind") == "Role"
                else cluster_roles.get(str(ref.get("name")))
            )
            if role is not None:
                granted.extend(role.get("rules") or [])
    return [verb for verb in need.verbs if not any(_rule_allows(r, need, verb) for r in granted)]


def role_exists(inventory: Inventory) -> list[ClusterProblem]:
    """A RoleBinding's Role exists in its namespace; a binding's ClusterRole exists."""
    roles = {(namespace_of(d), name_of(d)) for _, d in inventory.of_kind(RBAC, "Role")}
    cluster_roles = {name_of(d) for _, d in inventory.of_kind(RBAC, "ClusterRole")}
    problems: list[ClusterProblem] = []
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        for source, binding in inventory.of_kind(RBAC, kind):
            ref = binding.get("roleRef") or {}
            name, ref_kind = str(ref.get("name")), ref.get("kind")
            if ref_kind == "Role":
                if (namespace_of(binding), name) in roles:
                    continue
                where = f"Role {name} in namespace {namespace_of(binding) or '(none)'}"
            else:
                if (
                    name in cluster_roles
                    or name in BUILT_IN_CLUSTER_ROLES
                    or name.startswith("system:")
                ):
                    continue
                where = f"ClusterRole {name}"
            problems.append(
                ClusterProblem(
                    "rbac-role-exists",
                    source.name,
                    label(binding),
                    f"its roleRef names {where}, which is not defined: the binding grants nothing",
                    f"define the {ref_kind} beside the binding, or point roleRef at one that "
                    "exists",
                )
            )
    return problems
