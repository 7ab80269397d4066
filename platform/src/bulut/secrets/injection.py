"""Vault Agent Injector, locally: render a revision's secrets into files before it starts.

On a cluster the injector reads the pod template's annotations and runs a Vault Agent
sidecar that writes ``/vault/secrets/<name>``. Locally the same annotations are read from
the Revision, and :class:`SecretRenderer` writes the files into a per-instance directory
(mode 0600, removed on stop), re-renders them when the secrets change, renews dynamic
leases and revokes them on stop. Env values that point into ``/vault/secrets/`` are
rewritten to that directory, so a function configured for the cluster runs unchanged.

Annotations honoured (vault.hashicorp.com/...): ``agent-inject``, ``role``,
``agent-inject-secret-<name>``, ``agent-inject-template-<name>``, ``agent-inject-file-<name>``,
``agent-inject-token``, ``auth-path`` (which role table the token's policies come from:
:mod:`bulut.secrets.authroles`).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulut.errors import InvalidResourceError

from .templates import default_template, render
from .vault import Lease, Vault

PREFIX = "vault.hashicorp.com/"
CLUSTER_SECRETS_DIR = "/vault/secrets"
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_SECRET_REF = re.compile(r"^\{\{\s*secret:([a-z0-9.-]+):([A-Za-z0-9_.-]+)\s*\}\}$")


@dataclass(frozen=True)
class SecretFile:
    """One file Vault Agent would write."""

    name: str
    path: str
    template: str
    filename: str


@dataclass(frozen=True)
class InjectionPlan:
    """What a revision's annotations ask for."""

    role: str
    files: tuple[SecretFile, ...]
    inject_token: bool = False
    auth_path: str | None = None

    @classmethod
    def from_annotations(cls, annotations: Mapping[str, str]) -> InjectionPlan | None:
        """The plan, or None when ``agent-inject`` is not "true"."""
        if annotations.get(PREFIX + "agent-inject", "").lower() != "true":
            return None
        role = annotations.get(PREFIX + "role", "")
        if not role:
            raise InvalidResourceError(
                "vault.hashicorp.com/role is required when agent-inject is true",
                field=f"metadata.annotations.{PREFIX}role",
            )
        files = []
        for key, path in sorted(annotations.items()):
            if not key.startswith(PREFIX + "agent-inject-secret-"):
                continue
            name = key.removeprefix(PREFIX + "agent-inject-secret-")
            where = f"metadata.annotations.{key}"
            if not _NAME.match(name) or not path:
                raise InvalidResourceError(f"{where}: needs a file name and a path", field=where)
            template = annotations.get(
                PREFIX + f"agent-inject-template-{name}"
            ) or default_template(path)
            filename = annotations.get(PREFIX + f"agent-inject-file-{name}", name)
            files.append(SecretFile(name, path, template, filename))
        token = annotations.get(PREFIX + "agent-inject-token", "").lower() == "true"
        auth_path = annotations.get(PREFIX + "auth-path") or None
        return cls(role=role, files=tuple(files), inject_token=token, auth_path=auth_path)


def rewrite_env(env: Mapping[str, str], secrets_dir: Path) -> dict[str, str]:
    """Point env values at ``/vault/secrets/...`` to the instance's secrets directory."""
    out = {}
    for name, value in env.items():
        if value == CLUSTER_SECRETS_DIR or value.startswith(CLUSTER_SECRETS_DIR + "/"):
            value = str(secrets_dir) + value.removeprefix(CLUSTER_SECRETS_DIR)
        out[name] = value
    return out


def secret_ref(value: str) -> tuple[str, str] | None:
    """(secret, key) of a kn func ``{{ secret:name:key }}`` env value, else None."""
    match = _SECRET_REF.match(value.strip())
    return (match.group(1), match.group(2)) if match else None


def kv_path_for(namespace: str, secret: str) -> str:
    """Where a Kubernetes Secret ``secret`` of ``namespace`` lives in local KV."""
    return f"{namespace}/{secret}"


@dataclass
class SecretRenderer:
    """Renders one instance's secrets with the role's own token, and cleans up after it.

    The token carries ``policies`` (what the role's login would give: :mod:`.authroles`),
    by default the policy named after the role."""

    vault: Vault
    plan: InjectionPlan
    directory: Path
    policies: tuple[str, ...] = ()
    _token: str = field(default="", init=False, repr=False)
    _leases: dict[str, Lease] = field(default_factory=dict, init=False, repr=False)
    _rendered: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def _client(self) -> Vault:
        if not self._token:
            self._token = self.vault.create_token(list(self.policies or (self.plan.role,)))
        return self.vault.with_token(self._token)

    def _read(self, path: str) -> Mapping[str, Any]:
        if path in self._leases:
            return {"data": self._leases[path].data}
        client = self._client()
        result = client.read(path)
        if result.get("lease_id"):
            self._leases[path] = Lease(
                lease_id=str(result["lease_id"]),
                duration=int(result.get("lease_duration", 0)),
                renewable=bool(result.get("renewable", False)),
                data=dict(result.get("data") or {}),
            )
        return result

    def render(self) -> bool:
        """Write every file; returns True when any content changed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        changed = False
        for item in self.plan.files:
            where = f"metadata.annotations.{PREFIX}agent-inject-template-{item.name}"
            content = render(item.template, self._read, where=where)
            if self._rendered.get(item.filename) != content:
                self._write(item.filename, content)
                self._rendered[item.filename] = content
                changed = True
        if self.plan.inject_token and "token" not in self._rendered:
            self._client()
            self._write("token", self._token)
            self._rendered["token"] = "<token>"
        return changed

    def _write(self, filename: str, content: str) -> None:
        target = self.directory / filename
        temporary = target.with_name(f".{filename}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.replace(temporary, target)

    def renew(self) -> None:
        """Renew every renewable lease (call at about half its duration)."""
        client = self._client()
        for path, lease in list(self._leases.items()):
            if lease.renewable:
                duration = client.renew(lease.lease_id)
                self._leases[path] = Lease(lease.lease_id, duration, True, lease.data)

    @property
    def shortest_lease(self) -> int | None:
        """Seconds until the first lease expires, if any."""
        return min((lease.duration for lease in self._leases.values()), default=None)

    def close(self) -> None:
        """Revoke leases and the role token, and delete the rendered files."""
        client = self.vault
        for lease in self._leases.values():
            client.revoke(lease.lease_id)
        self._leases.clear()
        if self._token:
            client.revoke_token(self._token)
            self._token = ""
        shutil.rmtree(self.directory, ignore_errors=True)
        self._rendered.clear()
