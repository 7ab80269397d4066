"""Backup keys: Vault's unseal key and root token never leave the machine in clear.

A backup's Vault part is Raft data, encrypted by Vault's own barrier, plus ``init.json``,
the unseal key and root token that open it. Whoever reads ``init.json`` reads every
secret. With a backup key (``bulut dr keygen``), ``init.json`` is stored sealed:
AES-256-GCM with a random 96-bit nonce, the backup id as associated data (a sealed file
moved into another backup does not open). The key is 32 random bytes, kept in a file
(base64, mode 0600) outside the backup location, like a Velero repository password.

File format: ``bulut-sealed/1\\n`` + nonce (12 bytes) + ciphertext with its 16-byte tag.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bulut.errors import BackupError
from bulut.settings import Settings

MAGIC = b"bulut-sealed/1\n"
NONCE_BYTES = 12
KEY_BYTES = 32
SEALED_SUFFIX = ".sealed"


@dataclass(frozen=True)
class BackupKey:
    """A 256-bit backup key and the file it came from (named in errors)."""

    secret: bytes
    source: str = "backup key"

    @classmethod
    def load(cls, path: Path) -> BackupKey:
        """Read a key file written by :func:`write_new_key` (base64 of 32 bytes)."""
        try:
            text = path.read_text().strip()
        except OSError as error:
            raise BackupError(f"{path}: cannot read the backup key ({error.strerror})") from None
        try:
            secret = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            secret = b""
        if len(secret) != KEY_BYTES:
            raise BackupError(
                f"{path}: not a backup key (expected base64 of {KEY_BYTES} bytes); "
                "make one with `bulut dr keygen FILE`"
            )
        return cls(secret, str(path))


def configured_key(settings: Settings, explicit: Path | None = None) -> BackupKey | None:
    """The key named by ``explicit`` (``--key-file``), else ``settings.backup_key_path``
    (BULUT_BACKUP_KEY_FILE, else the default key file when it exists), else none."""
    chosen = explicit or settings.backup_key_path
    return BackupKey.load(chosen) if chosen is not None else None


def write_new_key(path: Path) -> BackupKey:
    """Create a new random key at ``path`` (mode 0600); an existing file is never replaced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(KEY_BYTES)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{path}: already exists; a key is never overwritten") from None
    with os.fdopen(descriptor, "w") as handle:
        handle.write(base64.b64encode(secret).decode() + "\n")
    return BackupKey(secret, str(path))


def seal(key: BackupKey, plaintext: bytes, backup_id: str) -> bytes:
    """``plaintext`` sealed for the backup ``backup_id``."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return MAGIC + nonce + AESGCM(key.secret).encrypt(nonce, plaintext, backup_id.encode())


def is_sealed(blob: bytes) -> bool:
    """Whether ``blob`` is in the sealed format."""
    return blob.startswith(MAGIC)


def unseal(key: BackupKey, blob: bytes, backup_id: str, *, where: str) -> bytes:
    """The plaintext of a sealed file; a BackupError naming ``where`` if it does not open."""
    if not is_sealed(blob) or len(blob) < len(MAGIC) + NONCE_BYTES + 16:
        raise BackupError(f"{where}: not a sealed file (damaged)")
    nonce = blob[len(MAGIC) : len(MAGIC) + NONCE_BYTES]
    try:
        return AESGCM(key.secret).decrypt(
            nonce, blob[len(MAGIC) + NONCE_BYTES :], backup_id.encode()
        )
    except InvalidTag:
        raise BackupError(
            f"{where}: {key.source} does not open it (another key, or another backup's file)"
        ) from None
