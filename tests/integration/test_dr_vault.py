"""The persistent OpenBao keeps Transit keys across restarts, and a Raft snapshot in a
backup brings them back into an empty state dir."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bulut.dr.vaultdata import restore_vault, stage_vault
from bulut.secrets.connection import remember
from bulut.secrets.devserver import DevServer
from bulut.secrets.vault import Vault
from bulut.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def test_transit_keys_survive_a_restart_and_a_snapshot_restore(tmp_path: Path) -> None:
    first = DevServer(tmp_path / "a" / "vault")
    await first.start()
    try:
        remember(Settings(state_dir=tmp_path / "a"), first.addr, first.token)
        vault = Vault(first.addr, first.token)
        vault.ensure_transit_key("orders-pii")
        ciphertext = vault.encrypt("orders-pii", b"jane@example.com")
        vault.kv_put("shop/payments/provider", {"api_key": "sk_test_1"})
        assert stat.S_IMODE(first.init_path.stat().st_mode) == 0o600
        assert first.token not in first.log_path.read_text()
        assert stage_vault(first.state_dir, tmp_path / "staging") == "raft-snapshot"
    finally:
        await first.stop()

    again = DevServer(tmp_path / "a" / "vault")
    await again.start()
    try:
        assert (
            Vault(again.addr, again.token).decrypt("orders-pii", ciphertext) == b"jane@example.com"
        )
    finally:
        await again.stop()

    restore_vault(tmp_path / "staging", tmp_path / "b" / "vault", "raft-snapshot")
    restored = DevServer(tmp_path / "b" / "vault")
    await restored.start()
    try:
        vault = Vault(restored.addr, restored.token)
        assert vault.decrypt("orders-pii", ciphertext) == b"jane@example.com"
        assert vault.kv_get("shop/payments/provider") == {"api_key": "sk_test_1"}
        assert not restored.pending_restore.exists()
    finally:
        await restored.stop()
