"""Vault/OpenBao through hvac: KV v2, Transit, policies, tokens, database credentials.

The only module that imports hvac (import-linter). Calls are synchronous (a local KV read
is ~1 ms); async callers use ``asyncio.to_thread``. Every hvac or transport failure becomes
a :class:`~bulut.errors.SecretUnavailableError` or :class:`~bulut.errors.NotFoundError`
whose message names the path and never the secret value or the token.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import hvac
import hvac.exceptions
import requests

from bulut.errors import NotFoundError, SecretUnavailableError

KV_MOUNT = "secret"
TRANSIT_MOUNT = "transit"
DATABASE_MOUNT = "database"

T = TypeVar("T")


@dataclass(frozen=True)
class Lease:
    """A dynamic secret: its data and the lease that keeps it alive."""

    lease_id: str
    duration: int
    renewable: bool
    data: dict[str, Any]


@contextmanager
def _translated(what: str, addr: str) -> Iterator[None]:
    try:
        yield
    except hvac.exceptions.Forbidden:
        raise SecretUnavailableError(f"permission denied: {what}") from None
    except hvac.exceptions.InvalidPath:
        raise NotFoundError(f"no secret at {what}") from None
    except (hvac.exceptions.VaultDown, hvac.exceptions.InternalServerError) as error:
        raise SecretUnavailableError(f"Vault at {addr} failed on {what}: {error}") from None
    except hvac.exceptions.VaultError as error:
        raise SecretUnavailableError(f"Vault refused {what}: {error}") from None
    except requests.exceptions.RequestException:
        raise SecretUnavailableError(f"Vault unreachable at {addr} ({what})") from None


class Vault:
    """A typed client for the parts of Vault Bulut uses."""

    def __init__(self, addr: str, token: str, *, timeout: float = 5.0) -> None:
        self.addr = addr
        self._token = token
        self._timeout = timeout
        self._client = hvac.Client(url=addr, token=token, timeout=timeout)

    def __repr__(self) -> str:
        return f"Vault(addr={self.addr!r})"

    def _call(self, what: str, call: Callable[[], T]) -> T:
        with _translated(what, self.addr):
            return call()

    def with_token(self, token: str) -> Vault:
        """The same server, another identity."""
        return Vault(self.addr, token, timeout=self._timeout)

    def healthy(self) -> bool:
        """True when the server answers and is unsealed."""
        try:
            return bool(self._client.sys.is_initialized()) and not self._client.sys.is_sealed()
        except (hvac.exceptions.VaultError, requests.exceptions.RequestException):
            return False

    # -- KV v2 ---------------------------------------------------------------
    def kv_put(self, path: str, data: Mapping[str, str]) -> int:
        """Write a new version at ``secret/<path>``; returns the version number."""
        result = self._call(
            f"write {KV_MOUNT}/{path}",
            lambda: self._client.secrets.kv.v2.create_or_update_secret(
                path=path, secret=dict(data), mount_point=KV_MOUNT
            ),
        )
        return int(result["data"]["version"])

    def kv_get(self, path: str) -> dict[str, str]:
        """The latest version's key/values at ``secret/<path>``."""
        result = self._call(
            f"read {KV_MOUNT}/{path}",
            lambda: self._client.secrets.kv.v2.read_secret_version(
                path=path, mount_point=KV_MOUNT, raise_on_deleted_version=True
            ),
        )
        return {str(k): str(v) for k, v in result["data"]["data"].items()}

    def kv_list(self, prefix: str = "") -> list[str]:
        """Keys under ``secret/<prefix>`` (folders end with ``/``)."""
        try:
            result = self._call(
                f"list {KV_MOUNT}/{prefix}",
                lambda: self._client.secrets.kv.v2.list_secrets(path=prefix, mount_point=KV_MOUNT),
            )
        except NotFoundError:
            return []
        return sorted(str(key) for key in result["data"]["keys"])

    def kv_delete(self, path: str) -> None:
        """Delete every version and the metadata at ``secret/<path>``."""
        self._call(
            f"delete {KV_MOUNT}/{path}",
            lambda: self._client.secrets.kv.v2.delete_metadata_and_all_versions(
                path=path, mount_point=KV_MOUNT
            ),
        )

    def read(self, path: str) -> dict[str, Any]:
        """A raw logical read (what Vault Agent templates see): data, lease_id, ..."""
        result = self._call(f"read {path}", lambda: self._client.read(path))
        if result is None:
            raise NotFoundError(f"no secret at {path}")
        return dict(result)

    # -- engines, policies, tokens -----------------------------------------
    def enable_engine(self, kind: str, path: str | None = None) -> None:
        """Mount a secrets engine unless something is mounted there already."""
        mount = (path or kind).rstrip("/") + "/"
        mounts = self._call("list mounts", self._client.sys.list_mounted_secrets_engines)
        if mount not in mounts.get("data", mounts):
            self._call(
                f"enable {kind} at {mount}",
                lambda: self._client.sys.enable_secrets_engine(kind, path=mount.rstrip("/")),
            )

    def put_policy(self, name: str, hcl: str) -> None:
        """Create or replace an ACL policy."""
        self._call(
            f"write policy {name}",
            lambda: self._client.sys.create_or_update_policy(name=name, policy=hcl),
        )

    def create_token(self, policies: Sequence[str], *, ttl: str = "1h") -> str:
        """A renewable child token carrying only ``policies``."""
        result = self._call(
            f"create token for {','.join(policies)}",
            lambda: self._client.auth.token.create(
                policies=list(policies), ttl=ttl, renewable=True, no_default_policy=False
            ),
        )
        return str(result["auth"]["client_token"])

    def revoke_token(self, token: str) -> None:
        """Revoke a token this client created (and its children)."""
        self._call("revoke a token", lambda: self._client.auth.token.revoke(token))

    # -- Transit ----------------------------------------------------------------
    def ensure_transit_key(self, name: str) -> None:
        """Mount Transit if needed and create the named key if it does not exist."""
        self.enable_engine("transit", TRANSIT_MOUNT)
        try:
            self._call(
                f"read transit key {name}",
                lambda: self._client.secrets.transit.read_key(name=name, mount_point=TRANSIT_MOUNT),
            )
        except NotFoundError:
            self._call(
                f"create transit key {name}",
                lambda: self._client.secrets.transit.create_key(
                    name=name, mount_point=TRANSIT_MOUNT
                ),
            )

    def encrypt(self, key: str, plaintext: bytes) -> str:
        """Ciphertext ``vault:vN:...`` of ``plaintext`` under the Transit key."""
        encoded = base64.b64encode(plaintext).decode()
        result = self._call(
            f"encrypt with transit/{key}",
            lambda: self._client.secrets.transit.encrypt_data(
                name=key, plaintext=encoded, mount_point=TRANSIT_MOUNT
            ),
        )
        return str(result["data"]["ciphertext"])

    def decrypt(self, key: str, ciphertext: str) -> bytes:
        """Plaintext of a Transit ciphertext."""
        result = self._call(
            f"decrypt with transit/{key}",
            lambda: self._client.secrets.transit.decrypt_data(
                name=key, ciphertext=ciphertext, mount_point=TRANSIT_MOUNT
            ),
        )
        return base64.b64decode(result["data"]["plaintext"])

    def rotate(self, key: str) -> int:
        """Rotate the Transit key; returns the new latest version."""
        self._call(
            f"rotate transit/{key}",
            lambda: self._client.secrets.transit.rotate_key(name=key, mount_point=TRANSIT_MOUNT),
        )
        info = self._call(
            f"read transit key {key}",
            lambda: self._client.secrets.transit.read_key(name=key, mount_point=TRANSIT_MOUNT),
        )
        return int(info["data"]["latest_version"])

    def rewrap(self, key: str, ciphertext: str) -> str:
        """Re-encrypt a ciphertext under the latest key version without exposing plaintext."""
        result = self._call(
            f"rewrap with transit/{key}",
            lambda: self._client.secrets.transit.rewrap_data(
                name=key, ciphertext=ciphertext, mount_point=TRANSIT_MOUNT
            ),
        )
        return str(result["data"]["ciphertext"])

    # -- database credentials ----------------------------------------------------
    def configure_postgres(
        self, name: str, *, connection_url: str, username: str, password: str, roles: Sequence[str]
    ) -> None:
        """Register a PostgreSQL connection with the database engine."""
        self.enable_engine("database", DATABASE_MOUNT)
        self._call(
            f"configure database/{name}",
            lambda: self._client.secrets.database.configure(
                name=name,
                plugin_name="postgresql-database-plugin",
                connection_url=connection_url,
                username=username,
                password=password,
                allowed_roles=list(roles),
                verify_connection=True,
                mount_point=DATABASE_MOUNT,
            ),
        )

    def create_database_role(
        self,
        name: str,
        *,
        db_name: str,
        creation: Sequence[str],
        revocation: Sequence[str],
        default_ttl: str = "1h",
        max_ttl: str = "24h",
    ) -> None:
        """A role whose credentials are created and, on revocation, really removed."""
        self._call(
            f"write database role {name}",
            lambda: self._client.secrets.database.create_role(
                name=name,
                db_name=db_name,
                creation_statements=list(creation),
                revocation_statements=list(revocation),
                default_ttl=default_ttl,
                max_ttl=max_ttl,
                mount_point=DATABASE_MOUNT,
            ),
        )

    def lease(self, path: str) -> Lease:
        """Read a dynamic secret (e.g. ``database/creds/<role>``) with its lease."""
        result = self.read(path)
        return Lease(
            lease_id=str(result.get("lease_id", "")),
            duration=int(result.get("lease_duration", 0)),
            renewable=bool(result.get("renewable", False)),
            data=dict(result.get("data") or {}),
        )

    def renew(self, lease_id: str, increment: int | None = None) -> int:
        """Renew a lease; returns the new duration in seconds."""
        result = self._call(
            f"renew lease {lease_id}",
            lambda: self._client.sys.renew_lease(lease_id=lease_id, increment=increment),
        )
        return int(result["lease_duration"])

    def revoke(self, lease_id: str) -> None:
        """Revoke a lease now (the database user is dropped by the revocation statements)."""
        self._call(f"revoke lease {lease_id}", lambda: self._client.sys.revoke_lease(lease_id))
