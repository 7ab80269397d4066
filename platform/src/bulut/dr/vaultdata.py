"""Vault in a backup: a Raft snapshot of the running OpenBao, or its files when stopped.

A running node is found through ``<state>/vault/addr`` and ``token`` (written by
`bulut up`); ``GET /v1/sys/storage/raft/snapshot`` returns one consistent snapshot that
carries KV, Transit keys, policies and tokens. A stopped node's Raft folder is copied
as files (nothing writes to it). Either way ``init.json`` (unseal key and root token)
goes with it: a snapshot can only be unsealed with the key of the node it came from.
Protect the backup location accordingly.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx

from bulut.errors import BackupError

SNAPSHOT = "vault/raft.snap"
INIT = "vault/init.json"


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


def stage_vault(vault_dir: Path, staging: Path) -> str:
    """Write Vault's part of a backup into ``staging``; returns the kind recorded."""
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
    shutil.copytree(data, staging / "vault" / "data")
    shutil.copyfile(init, staging / INIT)
    return "raft-files"


def restore_vault(staging: Path, vault_dir: Path, kind: str) -> None:
    """Put Vault's files back: a snapshot waits for the next start (DevServer applies it)."""
    if kind == "none":
        return
    vault_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(vault_dir, 0o700)
    if kind == "raft-snapshot":
        pending = vault_dir / "restore"
        pending.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(staging / SNAPSHOT, pending / "snapshot")
        shutil.copyfile(staging / INIT, pending / "init.json")
        os.chmod(pending / "init.json", 0o600)
        shutil.rmtree(vault_dir / "data", ignore_errors=True)
        (vault_dir / "init.json").unlink(missing_ok=True)
    elif kind == "raft-files":
        shutil.rmtree(vault_dir / "data", ignore_errors=True)
        shutil.copytree(staging / "vault" / "data", vault_dir / "data")
        shutil.copyfile(staging / INIT, vault_dir / "init.json")
        os.chmod(vault_dir / "init.json", 0o600)
    else:
        raise BackupError(f"manifest.json: unknown vault kind {kind!r}")
