"""What a kubelet and Vault Agent do to a pod before it starts, done for a local revision.

Serving calls :class:`PodSpecHooks` before a revision's zygote starts (it is a
:class:`~bulut.serving.dataplane.RevisionHooks`; ``bulut.local`` plugs it in):

- ``envFrom`` and ``valueFrom`` are resolved as a kubelet would: ConfigMaps from the control
  plane, Secrets from the local Vault's KV at ``<namespace>/<secret>`` (a Kubernetes Secret
  ``payments-env`` in ``shop-dev`` is ``bulut secrets get shop-dev/payments-env``);
- PostgreSQL URLs that name a cluster Service (``orders-db.shop-prod.svc``) are pointed at the
  local database that stands for it (``databases``: :mod:`bulut.serving.databases`);
- paths that are private to a pod on a cluster (``/tmp``, ``/vault/secrets``) are mapped to the
  revision's own directories, so two services never share a file by accident;
- Vault Agent injection annotations are rendered into files (mode 0600) with a token carrying
  the policy the pod's Kubernetes auth role gives in its namespace (``roles``), ``VAULT_ADDR``
  points at the local server, files are re-rendered when secrets change and dynamic leases
  renewed; everything is revoked and removed when the revision goes away;
- with ``authentication-oidc`` on (an ``issuer``), a revision bound by a SinkBinding gets the
  binding's token for its sink's audience in ``<volume>/oidc/token`` (mode 0600; Knative mounts
  it at ``/oidc/token``), named by ``K_OIDC_TOKEN_FILE`` and rewritten before it expires.

A Vault that cannot be reached raises :class:`~bulut.errors.SecretUnavailableError`; serving
shows it as the revision's reason and retries until Vault is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bulut.edge.issuer import PlatformIssuer
from bulut.edge.projection import TOKEN_FILE_ENV, ProjectedToken
from bulut.errors import (
    BulutError,
    InvalidResourceError,
    NotFoundError,
    SecretUnavailableError,
)
from bulut.secrets.authroles import AuthRoles
from bulut.secrets.injection import (
    InjectionPlan,
    SecretRenderer,
    kv_path_for,
    rewrite_env,
)
from bulut.secrets.vault import Vault

from .databases import DatabaseServer, cluster_database

logger = logging.getLogger(__name__)

POD_TMP = "/tmp"
RERENDER_SECONDS = 5.0


class ResourceReader(Protocol):
    """The one read the hooks make of the control plane (``ControlPlane.get``)."""

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        """One resource; NotFoundError when absent."""
        ...


class ConfigMapReader:
    """What the hooks need from the control plane: ConfigMap data."""

    def __init__(self, control: ResourceReader) -> None:
        self._control = control

    async def data(self, namespace: str, name: str) -> dict[str, str]:
        """A ConfigMap's data; NotFoundError when it does not exist."""
        resource = await self._control.get("ConfigMap", namespace, name)
        return {str(k): str(v) for k, v in (resource.get("data") or {}).items()}


def _container(revision: Mapping[str, Any]) -> Mapping[str, Any]:
    containers = revision.get("spec", {}).get("containers") or [{}]
    first: Mapping[str, Any] = containers[0]
    return first


def rewrite_pod_paths(env: Mapping[str, str], tmp_dir: Path, secrets_dir: Path) -> dict[str, str]:
    """Point ``/vault/secrets/...`` and ``/tmp/...`` (also in sqlite URLs) at local directories.

    Each value is mapped at most once, so a local directory that itself lives under /tmp is
    never mapped again.
    """
    out: dict[str, str] = {}
    for name, value in env.items():
        mapped = rewrite_env({name: value}, secrets_dir)[name]
        if mapped == value and not name.startswith("BULUT_"):  # the platform's own: host paths
            for prefix in (f"sqlite:///{POD_TMP}/", f"{POD_TMP}/"):
                if value.startswith(prefix):
                    local = prefix.replace(f"{POD_TMP}/", f"{tmp_dir}/")
                    mapped = local + value[len(prefix) :]
                    break
        out[name] = mapped
    return out


@dataclass
class PodSpecHooks:
    """Serving's RevisionHooks for the local platform (`bulut up`)."""

    vault: Vault
    configmaps: ConfigMapReader
    roles: AuthRoles = field(default_factory=AuthRoles)
    databases: DatabaseServer | None = None
    renderers: dict[tuple[str, str], SecretRenderer] = field(default_factory=dict)
    issuer: PlatformIssuer | None = None
    _loops: dict[tuple[str, str], asyncio.Task[None]] = field(default_factory=dict)
    _token_loops: dict[tuple[str, str], asyncio.Task[None]] = field(default_factory=dict)

    async def prepare(
        self, revision: dict[str, Any], env: dict[str, str], workdir: Path
    ) -> Mapping[str, str]:
        """The env a revision's instances get, with its secret files rendered."""
        meta = revision.get("metadata", {})
        namespace, name = str(meta.get("namespace", "default")), str(meta.get("name", ""))
        container = _container(revision)
        resolved = await self._env_from(namespace, container.get("envFrom") or [])
        resolved.update(env)
        resolved.update(await self._value_from(namespace, container.get("env") or []))
        if self.databases is not None:
            for key, value in resolved.items():
                database = cluster_database(value, namespace)
                if database is not None:
                    resolved[key] = await self.databases.url_for(value, database)
        service = str((meta.get("labels") or {}).get("serving.knative.dev/service") or name)
        # Secret files are per revision (they follow its annotations); the pod's /tmp is per
        # service, so a new revision keeps the service's SQLite files.
        secrets_dir, tmp_dir = workdir / "vault-secrets", workdir.parent.parent / service / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        plan = InjectionPlan.from_annotations(meta.get("annotations") or {})
        if plan is not None:
            try:
                await self._render(namespace, name, plan, secrets_dir)
            except NotFoundError as error:  # Vault Agent waits for a missing secret too
                raise SecretUnavailableError(f"{error} (waiting for it to be written)") from None
            if "VAULT_ADDR" in resolved or plan.inject_token:
                resolved["VAULT_ADDR"] = self.vault.addr
        pod_env = rewrite_pod_paths(resolved, tmp_dir, secrets_dir)
        # a host path already (it may well be under /tmp): never mapped as a pod path
        self._project_token(namespace, name, pod_env, workdir / "oidc" / "token")
        return pod_env

    def _project_token(self, namespace: str, name: str, env: dict[str, str], path: Path) -> None:
        """The SinkBinding's token for its sink, kept fresh in ``path`` (Knative's /oidc)."""
        account, audience = env.get("K_OIDC_SERVICE_ACCOUNT"), env.get("K_AUDIENCE")
        key = (namespace, name)
        old = self._token_loops.pop(key, None)
        if old is not None:
            old.cancel()
        if self.issuer is None or not account or not audience:
            return
        subject = f"system:serviceaccount:{namespace}:{account}"
        projected = ProjectedToken(self.issuer, subject, audience, path)
        projected.write()
        env[TOKEN_FILE_ENV] = str(path)
        self._token_loops[key] = asyncio.get_running_loop().create_task(projected.keep_fresh())

    async def release(self, namespace: str, name: str) -> None:
        """Stop re-rendering, revoke leases and delete the files."""
        key = (namespace, name)
        token_loop = self._token_loops.pop(key, None)
        if token_loop is not None:
            token_loop.cancel()
        loop = self._loops.pop(key, None)
        if loop is not None:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        renderer = self.renderers.pop(key, None)
        if renderer is not None:
            try:
                await asyncio.to_thread(renderer.close)
            except BulutError as error:
                logger.warning("revision %s/%s: could not revoke its leases: %s", *key, error)

    async def aclose(self) -> None:
        """Release every revision (the platform is stopping)."""
        for namespace, name in {*self.renderers, *self._token_loops}:
            await self.release(namespace, name)

    async def _render(
        self, namespace: str, name: str, plan: InjectionPlan, directory: Path
    ) -> None:
        key = (namespace, name)
        old = self.renderers.get(key)
        if old is not None and old.plan == plan:
            await asyncio.to_thread(old.render)
            return
        await self.release(namespace, name)
        policies = tuple(self.roles.policies(namespace, plan.role, plan.auth_path))
        renderer = SecretRenderer(self.vault, plan, directory, policies)
        try:
            await asyncio.to_thread(renderer.render)
        except BulutError:
            with contextlib.suppress(BulutError):  # revoke the token made for this attempt
                await asyncio.to_thread(renderer.close)
            raise
        self.renderers[key] = renderer
        self._loops[key] = asyncio.get_running_loop().create_task(self._keep_fresh(key, renderer))

    async def _keep_fresh(self, key: tuple[str, str], renderer: SecretRenderer) -> None:
        """Re-render on change and renew leases at half their duration, like Vault Agent."""
        renew_at = asyncio.get_running_loop().time() + (renderer.shortest_lease or 0) / 2
        while True:
            await asyncio.sleep(RERENDER_SECONDS)
            try:
                if renderer.shortest_lease and asyncio.get_running_loop().time() >= renew_at:
                    await asyncio.to_thread(renderer.renew)
                    renew_at = asyncio.get_running_loop().time() + renderer.shortest_lease / 2
                if await asyncio.to_thread(renderer.render):
                    logger.info("revision %s/%s: secrets re-rendered", *key)
            except BulutError as error:  # Vault Agent keeps the last good files and retries
                logger.warning("revision %s/%s: %s (keeping the last files)", *key, error)

    async def _env_from(self, namespace: str, sources: list[Any]) -> dict[str, str]:
        env: dict[str, str] = {}
        for index, source in enumerate(sources):
            prefix = str(source.get("prefix", ""))
            optional = bool(
                (source.get("configMapRef") or source.get("secretRef") or {}).get("optional")
            )
            try:
                if "configMapRef" in source:
                    data = await self.configmaps.data(namespace, source["configMapRef"]["name"])
                elif "secretRef" in source:
                    path = kv_path_for(namespace, source["secretRef"]["name"])
                    data = await asyncio.to_thread(self.vault.kv_get, path)
                else:
                    continue
            except NotFoundError:
                if optional:
                    continue
                raise InvalidResourceError(
                    f"envFrom[{index}] names a ConfigMap or Secret that does not exist in "
                    f"{namespace}: apply it (Secrets: bulut secrets put {namespace}/<name> ...)",
                    field=f"spec.containers[0].envFrom[{index}]",
                ) from None
            env.update({prefix + key: value for key, value in data.items()})
        return env

    async def _value_from(self, namespace: str, entries: list[Any]) -> dict[str, str]:
        env: dict[str, str] = {}
        for index, entry in enumerate(entries):
            source = entry.get("valueFrom") if isinstance(entry, Mapping) else None
            if not source:
                continue
            where = f"spec.containers[0].env[{index}].valueFrom"
            if "configMapKeyRef" in source:
                ref = source["configMapKeyRef"]
                data = await self._or_missing(
                    self.configmaps.data(namespace, ref["name"]), where, bool(ref.get("optional"))
                )
            elif "secretKeyRef" in source:
                ref = source["secretKeyRef"]
                path = kv_path_for(namespace, ref["name"])
                data = await self._or_missing(
                    asyncio.to_thread(self.vault.kv_get, path), where, bool(ref.get("optional"))
                )
            else:  # fieldRef / resourceFieldRef: nothing local to resolve them against
                continue
            if ref.get("key") in data:
                env[str(entry["name"])] = data[ref["key"]]
            elif not ref.get("optional"):
                raise InvalidResourceError(
                    f"{where}: {ref.get('name')} has no key {ref.get('key')!r}", field=where
                )
        return env

    @staticmethod
    async def _or_missing(lookup: Any, where: str, optional: bool) -> dict[str, str]:
        try:
            data: dict[str, str] = await lookup
        except NotFoundError as error:
            if optional:  # Kubernetes leaves the variable unset
                return {}
            raise InvalidResourceError(f"{where}: {error}", field=where) from None
        return data
