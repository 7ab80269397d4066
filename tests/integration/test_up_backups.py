"""`bulut up --backup-to DIR --backup-every 1s --backup-keep 2`: backups with retention."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.dr.manifest import Manifest
from bulut.dr.sealing import unseal, write_new_key
from bulut.errors import ConfigError
from bulut.local import LocalPlatform
from tests.support.platform import local_settings, running_platform
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_scheduled_backups_keep_only_the_newest(tmp_path: Path) -> None:
    backups = tmp_path / "backups"

    def complete() -> list[str]:
        return sorted(p.parent.name for p in backups.glob("*/manifest.json"))

    async with running_platform(
        local_settings(tmp_path), backup_to=str(backups), backup_every="1s", backup_keep=2
    ):
        oldest = (await eventually(complete, "the first backup", timeout=30))[0]

        def after_retention() -> list[str]:
            """The backups once a later round's retention removed the oldest."""
            now = complete()
            return now if oldest not in now and len(now) == 2 else []

        kept = await eventually(after_retention, "retention to drop the oldest", timeout=30)
    assert len(kept) == 2 and all(name > oldest for name in kept)


async def test_scheduled_backups_seal_vaults_unseal_key_with_the_backup_key(
    tmp_path: Path,
) -> None:
    key = write_new_key(tmp_path / "backup.key")
    backups = tmp_path / "backups"
    settings = local_settings(tmp_path, backup_key_file=tmp_path / "backup.key")
    async with running_platform(settings, backup_to=str(backups), backup_every="1s"):
        await eventually(lambda: list(backups.glob("*/manifest.json")), "a backup", timeout=30)
    manifest = next(backups.glob("*/manifest.json"))
    sealed = Manifest.from_json(manifest.read_text()).sealed
    assert sealed == ("vault/init.json",)
    assert not (manifest.parent / "vault" / "init.json").exists()
    opened = unseal(key, (manifest.parent / "vault" / "init.json.sealed").read_bytes(),
                    manifest.parent.name, where="test")  # fmt: skip
    assert b"root_token" in opened


async def test_a_schedule_without_a_location_is_refused(tmp_path: Path) -> None:
    local = LocalPlatform(local_settings(tmp_path), backup_every="5m")
    with pytest.raises(ConfigError, match="--backup-to"):
        await local.start()
    await local.aclose()


async def test_a_relative_state_dir_is_made_absolute_before_instances_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make up` uses `.bulut`; instances run in their volume, so paths must be absolute."""
    monkeypatch.chdir(tmp_path)
    settings = local_settings(tmp_path).model_copy(
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
