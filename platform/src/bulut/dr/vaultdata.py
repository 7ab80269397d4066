"""Vault in a backup: always as Raft files, so a restore only unpacks files.

A running node is found through ``<state>/vault/addr`` and ``token`` (written by
`bulut up`). Its files cannot be copied while it runs (bbolt rewrites pages in place, and
``raft/raft.db`` and ``vault.db`` must match), so ``GET /v1/sys/storage/raft/snapshot``
takes one consistent snapshot (KV, Transit keys, policies, tokens), and
:func:`materialise` turns it into a data directory offline, while the backup is taken:
a scratch OpenBao force-restores it and is stopped, and a second start must unseal the
result with the key in ``init.json``
(:func:`bulut.secrets.devserver.restore_snapshot_offline`). A stopped node's Raft folder
is copied as it is (nothing writes to it).

Either way the folder goes into the backup as ``vault/data.tar.gz`` (kind
``raft-archive``): bbolt grows its files in sparse 16 MiB steps, so ~33 MB of mostly
holes become ~0.1 MB. A restore unpacks it into place before the server starts. A live
backup also keeps the snapshot itself (``vault/raft.snap``: portable to any Vault or
OpenBao with ``bao operator raft snapshot restore``).

Older backups still restore: ``raft-files`` (the folder as files) is moved into place,
``raft-snapshot`` (a live node's snapshot only) is materialised first.

``init.json`` (unseal key and root token) always goes with the data: Raft data can only
be unsealed with the key of the node it came from. Protect the backup location accordingly.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

import httpx

from bulut.errors import BackupError, BulutError
from bulut.secrets.devserver import restore_snapshot_offline

SNAPSHOT = "vault/raft.snap"
INIT = "vault/init.json"
DATA = "vault/data"
ARCHIVE = "vault/data.tar.gz"
KINDS = ("raft-archive", "raft-snapshot", "raft-files", "none")


def _running_node(vault_dir: Path) -> tuple[str, str] | None:
    """(addr, token) of the node serving this state dir, if it answers as active."""
    try:
        addr = (vault_dir / "addr").read_text().strip()
        token = (vault_dir / "token").read_text().strip()
        response = httpx.get(f"{addr}/v1/sys/health", timeout=2.0)
    except (OSError, httpx.TransportError):
        return None
    return (addr, token) if response.status_code == 200 else None


def _pid_alive(vault_dir: Path) -> bool:
    try:
        pid = int((vault_dir / "bao.pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def snapshot_vault(vault_dir: Path, staging: Path) -> str:
    """Copy Vault's part of a backup into ``staging``; returns the kind recorded.

    ``raft-snapshot`` (a running node: only the snapshot, see :func:`materialise`),
    ``raft-archive`` (a stopped node's data folder, packed) or ``none``.
    """
    init = vault_dir / "init.json"
    node = _running_node(vault_dir)
    if node is not None:
        addr, token = node
        response = httpx.get(
            f"{addr}/v1/sys/storage/raft/snapshot",
            headers={"X-Vault-Token": token},
            timeout=60.0,
        )
        if response.status_code != 200:
            # A `-dev` node keeps everything in memory: there is nothing durable to copy.
            return "none"
        target = staging / SNAPSHOT
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(response.content)
        if init.is_file():
            shutil.copyfile(init, staging / INIT)
        return "raft-snapshot"
    data = vault_dir / "data"
    if not data.is_dir() or not init.is_file():
        return "none"
    if _pid_alive(vault_dir):
        raise BackupError(
            f"OpenBao for {vault_dir} runs but does not answer at its recorded address: "
            "wait for `bulut up` to finish starting, or stop it, then back up again"
        )
    (staging / "vault").mkdir(parents=True, exist_ok=True)
    _pack(data, staging / ARCHIVE)
    shutil.copyfile(init, staging / INIT)
    return "raft-archive"


def _pack(data: Path, archive: Path) -> None:
    """``data/**`` into a gzip'd tar (through a temporary name)."""
    partial = archive.with_name(archive.name + ".partial")
    with tarfile.open(partial, "w:gz") as tar:
        tar.add(data, arcname="data")
    partial.replace(archive)


def _unpack(archive: Path, target: Path) -> None:
    """The archive's ``data/**`` into ``target`` (absent), refusing anything unexpected."""
    folder = target.parent / ".unpacking"
    shutil.rmtree(folder, ignore_errors=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                parts = Path(member.name).parts
                if (
                    not (member.isfile() or member.isdir())
                    or not parts
                    or parts[0] != "data"
                    or ".." in parts
                    or Path(member.name).is_absolute()
                ):
                    raise BackupError(f"{ARCHIVE}: unexpected entry {member.name!r}")
            tar.extractall(folder, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise BackupError(f"{ARCHIVE}: cannot be unpacked: {error}") from None
    (folder / "data").rename(target)
    folder.rmdir()


def materialise(staging: Path, *, pack: bool = True) -> str:
    """Turn ``vault/raft.snap`` in ``staging`` into Raft files (offline), packed into
    ``vault/data.tar.gz`` (``raft-archive``) or left as ``vault/data`` (``raft-files``).
    A snapshot that does not open with its ``init.json`` is a BackupError."""
    if not (staging / DATA).is_dir():
        if not (staging / INIT).is_file():
            raise BackupError(
                f"{INIT}: missing beside {SNAPSHOT}; without the node's unseal key the "
                "snapshot cannot be restored"
            )
        try:
            restore_snapshot_offline(staging / SNAPSHOT, staging / INIT, staging / DATA)
        except BulutError as error:
            raise BackupError(f"{SNAPSHOT}: cannot be turned into Raft files: {error}") from None
    if not pack:
        return "raft-files"
    _pack(staging / DATA, staging / ARCHIVE)
    shutil.rmtree(staging / DATA)
    return "raft-archive"


def stage_vault(vault_dir: Path, staging: Path) -> str:
    """Write Vault's part of a backup into ``staging`` as packed Raft files; returns the kind."""
    kind = snapshot_vault(vault_dir, staging)
    return materialise(staging) if kind == "raft-snapshot" else kind


def prepare_vault(staging: Path, kind: str) -> None:
    """Give a verified, staged backup its ``vault/data`` folder, whatever its vault kind."""
    if kind not in KINDS:
        raise BackupError(f"manifest.json: unknown vault kind {kind!r}")
    if kind == "none" or (staging / DATA).is_dir():
        return
    if kind == "raft-archive":
        _unpack(staging / ARCHIVE, staging / DATA)
    elif kind == "raft-snapshot":
        materialise(staging, pack=False)
    else:
        raise BackupError(f"{DATA}: missing from a backup whose vault kind is {kind}")


def restore_vault(staging: Path, vault_dir: Path, kind: str) -> None:
    """Put Vault's Raft files back (moved out of ``staging``), ready for the next start."""
    prepare_vault(staging, kind)
    if kind == "none":
        return
    vault_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(vault_dir, 0o700)
    shutil.rmtree(vault_dir / "data", ignore_errors=True)
    # A snapshot an older restore left for the next start would be ignored (the node has
    # data now); remove it so nothing suggests it is still pending.
    shutil.rmtree(vault_dir / "restore", ignore_errors=True)
    shutil.move(staging / DATA, vault_dir / "data")
    os.chmod(vault_dir / "data", 0o700)
    shutil.copyfile(staging / INIT, vault_dir / "init.json")
    os.chmod(vault_dir / "init.json", 0o600)
