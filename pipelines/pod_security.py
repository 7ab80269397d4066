"""Security contexts and resources that fit OpenShift's restricted-v2 SCC.

No fixed ``runAsUser``: OpenShift assigns one from the namespace's range (GID 0), so every
writable path is an ``emptyDir`` or the workspace volume and ``HOME`` points at ``/tmp``
(reference/cluster-ops.md §2.1 and §5.3). Argo's executor image runs as non-root as well.
"""

from __future__ import annotations

from hera.workflows import Env, Resources
from hera.workflows.models import (
    Capabilities,
    PodSecurityContext,
    SeccompProfile,
    SecurityContext,
)


def restricted_container() -> SecurityContext:
    """A container context restricted-v2 admits: non-root, no escalation, no capabilities."""
    return SecurityContext(
        run_as_non_root=True,
        allow_privilege_escalation=False,
        capabilities=Capabilities(drop=["ALL"]),
        seccomp_profile=SeccompProfile(type="RuntimeDefault"),
    )


def restricted_pod() -> PodSecurityContext:
    """The workflow pods' context: non-root, RuntimeDefault seccomp, no fixed UID."""
    return PodSecurityContext(
        run_as_non_root=True,
        seccomp_profile=SeccompProfile(type="RuntimeDefault"),
    )


def small(memory: str = "256Mi", cpu: str = "100m") -> Resources:
    """Requests and a memory limit (the policy every pod in the tree meets)."""
    return Resources(cpu_request=cpu, memory_request=memory, memory_limit=memory)


def home_in_tmp() -> list[Env]:
    """An arbitrary UID has no home directory: git, uv and trivy write under /tmp."""
    return [Env(name="HOME", value="/tmp"), Env(name="XDG_CACHE_HOME", value="/tmp/.cache")]
