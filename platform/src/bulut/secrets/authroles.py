"""Vault's Kubernetes auth roles, locally: which policy a pod's Vault Agent token carries.

On a cluster, Vault Agent logs in at the pod's ``vault.hashicorp.com/auth-path`` (one mount
per namespace, ``auth/kubernetes-<namespace>``) as ``vault.hashicorp.com/role``; the role is
bound to that ServiceAccount in that namespace and carries one policy.
gitops/platform/vault/kubernetes-auth-roles.txt lists those roles (configure.sh creates them
on the cluster)::

    # namespace     service-account   policy
    shop-staging    orders            shop-staging-orders

Locally there is no ServiceAccount token to log in with: :meth:`AuthRoles.policies` decides
the policies the same role would give, so orders in shop-staging gets
``shop-staging-orders`` (its own Transit key), not dev's ``orders``. A role the table does not
hold in the mount's namespace is refused as Vault would refuse the login. Without a table
(tests, a bare `bulut up -f`), the role's name is its policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bulut.errors import InvalidResourceError, ManifestError

from .injection import PREFIX

MOUNT_PREFIX = "auth/kubernetes-"
DEFAULT_MOUNT = "auth/kubernetes"


@dataclass(frozen=True)
class AuthRoles:
    """(namespace, role) -> policy, as the cluster's auth mounts hold them."""

    roles: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> AuthRoles:
        """Parse kubernetes-auth-roles.txt; ManifestError names the file and line."""
        roles: dict[tuple[str, str], str] = {}
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            parts = text.split()
            if len(parts) != 3:
                raise ManifestError(
                    f"{path}:{number}: expected 'namespace service-account policy', got {text!r}"
                )
            namespace, account, policy = parts
            roles[(namespace, account)] = policy
        return cls(roles)

    def policies(self, namespace: str, role: str, auth_path: str | None) -> list[str]:
        """The policies a pod of ``namespace`` logging in as ``role`` at ``auth_path`` gets."""
        if not self.roles:
            return [role]
        mount = (auth_path or DEFAULT_MOUNT).strip("/")
        where = f"metadata.annotations.{PREFIX}auth-path"
        if not mount.startswith(MOUNT_PREFIX):
            raise InvalidResourceError(
                f"{where}: {mount!r} is not a Kubernetes auth mount of this Vault "
                f"(one per namespace: {MOUNT_PREFIX}{namespace})",
                field=where,
            )
        bound = mount.removeprefix(MOUNT_PREFIX)
        if bound != namespace:
            raise InvalidResourceError(
                f"{where}: {mount} only accepts ServiceAccounts of {bound}, not of {namespace}",
                field=where,
            )
        policy = self.roles.get((namespace, role))
        if policy is None:
            where = f"metadata.annotations.{PREFIX}role"
            raise InvalidResourceError(
                f"{where}: {mount} has no role {role!r} (add it to kubernetes-auth-roles.txt)",
                field=where,
            )
        return [policy]
