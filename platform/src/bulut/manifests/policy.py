"""Pod-security and resource policy: OpenShift's restricted-v2 SCC, checked offline.

checkov does not look inside Knative pod templates, so this module does, for every pod
template it can find (reference/cluster-ops.md §5.3): Pods, workload controllers, Jobs and
CronJobs, and Knative Services/Configurations/Revisions (``spec.template.spec``).

Rules per container (init containers included):

- ``securityContext.runAsNonRoot: true`` and no fixed ``runAsUser`` (OpenShift assigns one
  from the namespace range);
- ``allowPrivilegeEscalation: false``, ``privileged`` not true;
- ``capabilities.drop`` contains ``ALL``; nothing added but ``NET_BIND_SERVICE``;
- ``seccompProfile.type: RuntimeDefault`` (container, or the pod's);
- requests for cpu and memory and a memory limit.

Per pod: no host network/PID/IPC, no hostPath volumes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Service@serving.knative.dev": ("spec", "template", "spec"),
    "Configuration@serving.knative.dev": ("spec", "template", "spec"),
    "Revision@serving.knative.dev": ("spec",),
}
_ALLOWED_CAPABILITIES = {"NET_BIND_SERVICE"}


@dataclass(frozen=True)
class Violation:
    """One broken rule: ``path`` is a JSON-ish path inside the document."""

    path: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}: {self.rule}"


def pod_spec_path(document: Mapping[str, Any]) -> tuple[str, ...] | None:
    """Where a kind keeps its pod spec, or None for kinds without pods."""
    kind = str(document.get("kind", ""))
    group, slash, _ = str(document.get("apiVersion", "")).rpartition("/")
    if slash and group.endswith("knative.dev"):
        return _TEMPLATE_PATHS.get(f"{kind}@{group}")
    return _TEMPLATE_PATHS.get(kind)


def pod_spec(document: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """(path, pod spec) of a document, when it has one."""
    path = pod_spec_path(document)
    if path is None:
        return None
    node: Any = document
    for key in path:
        if not isinstance(node, Mapping) or not isinstance(node.get(key), Mapping):
            return None
        node = node[key]
    return ".".join(path), node


def _containers(spec: Mapping[str, Any], base: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for group in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(group) or []):
            if isinstance(container, Mapping):
                yield f"{base}.{group}[{index}]", container


def check_container(
    path: str, container: Mapping[str, Any], pod_security: Mapping[str, Any]
) -> list[Violation]:
    """restricted-v2 and resource rules for one container."""
    found: list[Violation] = []
    context = container.get("securityContext") or {}
    where = f"{path}.securityContext"
    if context.get("runAsNonRoot") is not True and pod_security.get("runAsNonRoot") is not True:
        found.append(Violation(f"{where}.runAsNonRoot", "must be true"))
    if "runAsUser" in context or "runAsUser" in pod_security:
        found.append(Violation(f"{where}.runAsUser", "must not be fixed (OpenShift assigns it)"))
    if context.get("allowPrivilegeEscalation") is not False:
        found.append(Violation(f"{where}.allowPrivilegeEscalation", "must be false"))
    if context.get("privileged") is True:
        found.append(Violation(f"{where}.privileged", "must not be true"))
    capabilities = context.get("capabilities") or {}
    if "ALL" not in (capabilities.get("drop") or []):
        found.append(Violation(f"{where}.capabilities.drop", "must contain ALL"))
    extra = set(capabilities.get("add") or []) - _ALLOWED_CAPABILITIES
    if extra:
        rule = f"may add only NET_BIND_SERVICE, not {sorted(extra)}"
        found.append(Violation(f"{where}.capabilities.add", rule))
    seccomp_profile = context.get("seccompProfile") or pod_security.get("seccompProfile") or {}
    seccomp = seccomp_profile.get("type")
    if seccomp != "RuntimeDefault":
        found.append(Violation(f"{where}.seccompProfile.type", "must be RuntimeDefault"))
    resources = container.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    for name in ("cpu", "memory"):
        if name not in requests:
            found.append(Violation(f"{path}.resources.requests.{name}", "must be set"))
    if "memory" not in limits:
        found.append(Violation(f"{path}.resources.limits.memory", "must be set"))
    return found


def check_document(document: Mapping[str, Any]) -> list[Violation]:
    """Every violation in one document (empty for kinds without pods)."""
    located = pod_spec(document)
    if located is None:
        return []
    base, spec = located
    found: list[Violation] = []
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag) is True:
            found.append(Violation(f"{base}.{flag}", "must not be true"))
    for index, volume in enumerate(spec.get("volumes") or []):
        if isinstance(volume, Mapping) and "hostPath" in volume:
            found.append(Violation(f"{base}.volumes[{index}].hostPath", "is not allowed"))
    pod_security = spec.get("securityContext") or {}
    containers = list(_containers(spec, base))
    if not containers:
        found.append(Violation(f"{base}.containers", "must list at least one container"))
    for path, container in containers:
        found.extend(check_container(path, container, pod_security))
    return found


def as_deployment(document: Mapping[str, Any]) -> dict[str, Any] | None:
    """A Knative Service's pod template wrapped in an apps/v1 Deployment, else None.

    Policy scanners (checkov) check Deployments' containers but not Knative pod templates;
    this view lets them. Knative-only fields (containerConcurrency, timeoutSeconds) are dropped.
    """
    if pod_spec_path(document) != _TEMPLATE_PATHS["Service@serving.knative.dev"]:
        return None
    if not str(document.get("apiVersion", "")).startswith("serving.knative.dev/"):
        return None
    located = pod_spec(document)
    if located is None:
        return None
    meta = document.get("metadata") or {}
    template = (document.get("spec") or {}).get("template") or {}
    knative_only = {"containerConcurrency", "timeoutSeconds", "idleTimeoutSeconds"}
    spec = {k: v for k, v in located[1].items() if k not in knative_only}
    labels = {"serving.knative.dev/service": str(meta.get("name", ""))}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": meta.get("name"),
            "namespace": meta.get("namespace"),
            "annotations": dict(template.get("metadata", {}).get("annotations") or {}),
        },
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }
