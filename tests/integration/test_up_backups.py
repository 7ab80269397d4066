"""`bulut up --backup-to DIR --backup-every 1s --backup-keep 2`: backups with retention."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bulut.cli.stack import LocalPlatform
from bulut.dr.manifest import Manifest
from bulut.dr.sealing import unseal, write_new_key
from bulut.errors import ConfigError
from bulut.settings import Settings

pytestmark = pytest.mark.integration


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        state_dir=tmp_path / "state",
        data_port=0,
        control_port=0,
        vault_policies_dir=tmp_path / "none",
        vault_seed=tmp_path / "none.yaml",
    )


async def test_scheduled_backups_keep_only_the_newest(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    local = LocalPlatform(
        _settings(tmp_path), backup_to=str(backups), backup_every="1s", backup_keep=2
    )
    await local.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            complete = sorted(p.parent.name for p in backups.glob("*/manifest.json"))
            if len(complete) >= 2 and local.backups.backup_stats():
                await asyncio.sleep(1.5)  # one more round: retention must drop the oldest
                break
            await asyncio.sleep(0.2)
    finally:
        await local.aclose()
    complete = sorted(p.parent.name for p in backups.glob("*/manifest.json"))
    assert len(complete) == 2, complete


async def test_scheduled_backups_seal_vaults_unseal_key_with_the_backup_key(
    tmp_path: Path,
) -> None:
    key = write_new_key(tmp_path / "backup.key")
    backups = tmp_path / "backups"
    settings = _settings(tmp_path).model_copy(update={"backup_key_file": tmp_path / "backup.key"})
    local = LocalPlatform(settings, backup_to=str(backups), backup_every="1s")
    await local.start()
    try:
        deadline = time.monotonic() + 30
        while not list(backups.glob("*/manifest.json")) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
    finally:
        await local.aclose()
    manifest = next(backups.glob("*/manifest.json"))
    sealed = Manifest.from_json(manifest.read_text()).sealed
    assert sealed == ("vault/init.json",)
    assert not (manifest.parent / "vault" / "init.json").exists()
    opened = unseal(key, (manifest.parent / "vault" / "init.json.sealed").read_bytes(),
                    manifest.parent.name, where="test")  # fmt: skip
    assert b"root_token" in opened


async def test_a_schedule_without_a_location_is_refused(tmp_path: Path) -> None:
    local = LocalPlatform(_settings(tmp_path), backup_every="5m")
    with pytest.raises(ConfigError, match="--backup-to"):
        await local.start()
    await local.aclose()


async def test_a_relative_state_dir_is_made_absolute_before_instances_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make up` uses `.bulut`; instances run in their volume, so paths must be absolute."""
    monkeypatch.chdir(tmp_path)
    settings = _settings(tmp_path).model_copy(
        update={"state_dir": Path(".bulut"), "builds_dir": Path("builds")}
    )
    local = LocalPlatform(settings)
    await local.start()
    try:
        assert local.settings.state_dir == tmp_path / ".bulut"
        assert local.settings.builds_dir == tmp_path / "builds"
        assert local.layout.volumes.is_absolute()
    finally:
        await local.aclose()
