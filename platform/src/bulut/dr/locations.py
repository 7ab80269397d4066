"""Backup locations: a local directory, or any S3-compatible endpoint (through boto3).

Both store objects under ``<prefix>/<backup-id>/<path>``; a backup counts as complete only
once its ``manifest.json`` exists (it is written last). S3 credentials come from the usual
boto3 chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, profiles), never from flags.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

from bulut.errors import BackupError, ConfigError

from .manifest import MANIFEST, copy_hashed, sha256_file

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class Location(Protocol):
    """Where backups go: keys are ``<backup-id>/<path>``."""

    @property
    def url(self) -> str:
        """Where the location is, as the user wrote it."""

    def put(self, key: str, source: Path) -> None:
        """Store a local file under ``key``."""

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store bytes under ``key``."""

    def get(self, key: str, target: Path) -> bool:
        """Fetch ``key`` into ``target``; False when it does not exist."""

    def get_bytes(self, key: str) -> bytes | None:
        """The bytes under ``key``, or None."""

    def keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (relative to the location)."""

    def delete(self, prefix: str) -> None:
        """Remove every key under ``prefix``."""


def backup_ids(location: Location) -> list[str]:
    """Ids of the complete backups (those with a manifest), oldest first."""
    found = {
        key.split("/", 1)[0]
        for key in location.keys("")
        if key.count("/") == 1 and key.endswith("/" + MANIFEST)
    }
    return sorted(found)


@dataclass
class DirectoryLocation:
    """Backups in a local (or mounted) directory."""

    root: Path

    @property
    def url(self) -> str:
        """The directory as given."""
        return str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def _private_parent(self, target: Path) -> None:
        """Create ``target``'s folders, each up from the root 0700 (backups hold secrets)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        folder = target.parent
        while True:
            folder.chmod(0o700)
            if folder == self.root or self.root not in folder.parents:
                break
            folder = folder.parent

    def put(self, key: str, source: Path) -> None:
        """Copy ``source`` in (0600), through a temporary name so a crash leaves no half file."""
        target = self._path(key)
        self._private_parent(target)
        partial = target.with_name(target.name + ".partial")
        partial.touch(mode=0o600)
        partial.chmod(0o600)
        shutil.copyfile(source, partial)
        partial.replace(target)

    def put_bytes(self, key: str, data: bytes) -> None:
        """Write ``data`` (0600) through a temporary name."""
        target = self._path(key)
        self._private_parent(target)
        partial = target.with_name(target.name + ".partial")
        partial.touch(mode=0o600)
        partial.chmod(0o600)
        partial.write_bytes(data)
        partial.replace(target)

    def get(self, key: str, target: Path) -> bool:
        """Copy ``key`` out."""
        source = self._path(key)
        if not source.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return True

    def get_bytes(self, key: str) -> bytes | None:
        """Read ``key``."""
        source = self._path(key)
        return source.read_bytes() if source.is_file() else None

    def keys(self, prefix: str) -> list[str]:
        """Every file under ``prefix``."""
        base = self._path(prefix) if prefix else self.root
        if not base.is_dir():
            return []
        return sorted(
            path.relative_to(self.root).as_posix()
            for path in base.rglob("*")
            if path.is_file() and not path.name.endswith(".partial")
        )

    def delete(self, prefix: str) -> None:
        """Remove the folder ``prefix``."""
        shutil.rmtree(self._path(prefix), ignore_errors=True)


@dataclass
class S3Location:
    """Backups in an S3 bucket under a prefix (AWS, MinIO, Ceph, `rclone serve s3`...)."""

    bucket: str
    prefix: str
    endpoint: str | None = None
    region: str | None = None
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    _client: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """``s3://bucket/prefix``."""
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    @property
    def client(self) -> S3Client:
        """The boto3 client, built on first use."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "s3",
                endpoint_url=self.endpoint,
                region_name=self.region or "us-east-1",
                aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key,
                config=Config(
                    s3={"addressing_style": "path"},
                    retries={"max_attempts": 3, "mode": "standard"},
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                ),
            )
        client: S3Client = self._client
        return client

    def _key(self, key: str) -> str:
        return f"{self.prefix.strip('/')}/{key}" if self.prefix.strip("/") else key

    def _call(self, what: str, call: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchKey", "NotFound"):
                return None
            raise BackupError(f"{self.url}: {what} failed: {code or error}") from None
        except BotoCoreError as error:
            raise BackupError(f"{self.url}: {what} failed: {error}") from None

    def put(self, key: str, source: Path) -> None:
        """Upload a file (multipart when large)."""
        self._call(
            f"upload {key}",
            lambda: self.client.upload_file(str(source), self.bucket, self._key(key)),
        )

    def put_bytes(self, key: str, data: bytes) -> None:
        """Upload bytes."""
        self._call(
            f"upload {key}",
            lambda: self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data),
        )

    def get(self, key: str, target: Path) -> bool:
        """Download ``key``; False when it does not exist."""
        target.parent.mkdir(parents=True, exist_ok=True)

        def download() -> bool:
            self.client.download_file(self.bucket, self._key(key), str(target))
            return True

        return bool(self._call(f"download {key}", download))

    def get_bytes(self, key: str) -> bytes | None:
        """Download ``key`` into memory."""
        response = self._call(
            f"download {key}",
            lambda: self.client.get_object(Bucket=self.bucket, Key=self._key(key)),
        )
        return None if response is None else bytes(response["Body"].read())

    def keys(self, prefix: str) -> list[str]:
        """List keys under ``prefix`` (paginated)."""
        base = self._key(prefix) if prefix else self._key("")
        strip = len(self._key(""))
        found: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call(
            f"list {prefix or '/'}",
            lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=base)),
        )
        for page in pages or []:
            found.extend(item["Key"][strip:] for item in page.get("Contents", []))
        return sorted(found)

    def delete(self, prefix: str) -> None:
        """Delete every key under ``prefix``."""
        keys = self.keys(prefix)
        for start in range(0, len(keys), 1000):
            batch = [{"Key": self._key(key)} for key in keys[start : start + 1000]]
            self._call(
                f"delete {prefix}",
                lambda batch=batch: self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                ),
            )


def fetch(location: Location, key: str, target: Path) -> str | None:
    """Copy ``key`` into ``target`` and return the sha256 of what was written (None: missing).

    A directory is read once (copied and hashed in one pass); other locations are
    downloaded, then hashed.
    """
    if isinstance(location, DirectoryLocation):
        source = location.root / key
        if not source.is_file():
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        return copy_hashed(source, target)
    return sha256_file(target) if location.get(key, target) else None


def parse_location(url: str, *, endpoint: str | None = None) -> Location:
    """``s3://bucket/prefix`` (with an optional endpoint URL) or a directory path."""
    if url.startswith("s3://"):
        parsed = urlparse(url)
        if not parsed.netloc:
            raise ConfigError(f"{url}: an S3 location needs a bucket: s3://BUCKET/PREFIX")
        return S3Location(parsed.netloc, parsed.path.strip("/"), endpoint=endpoint)
    if "://" in url:
        raise ConfigError(f"{url}: a backup location is a directory or s3://BUCKET/PREFIX")
    if endpoint:
        raise ConfigError("--endpoint only applies to s3:// locations")
    return DirectoryLocation(Path(url))
