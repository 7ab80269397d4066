"""Scheduled backups with retention, for `bulut up --backup-every 5m --backup-keep N`.

:func:`run_schedule` is a coroutine the runtime starts beside its planes; each round
takes a backup in a worker thread (the SQLite backup API and uploads block) and then
removes the oldest complete backups beyond ``keep``. A failed round is reported through
``on_error`` and the schedule carries on.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bulut.errors import BackupError, ConfigError

from .locations import Location, backup_ids
from .manifest import select_expired
from .sealing import BackupKey
from .snapshot import BackupResult, take_backup

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_interval(text: str) -> float:
    """``"5m"`` -> 300.0; a bare number is seconds. ConfigError names the value."""
    match = _INTERVAL.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ConfigError(f"--backup-every {text!r}: expected a duration like 30s, 5m or 1h")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]


@dataclass(frozen=True)
class BackupSchedule:
    """What to back up, where, how often and how many to keep."""

    state_dir: Path
    location: Location
    every_seconds: float
    keep: int
    database_url: str | None = None
    key: BackupKey | None = None  # seals Vault's unseal key in every backup


def prune(location: Location, keep: int) -> list[str]:
    """Delete the oldest complete backups beyond ``keep``; returns their ids."""
    expired = select_expired(backup_ids(location), keep)
    for backup_id in expired:
        location.delete(backup_id)
    return expired


def backup_once(schedule: BackupSchedule) -> BackupResult:
    """One round: back up, then apply retention."""
    result = take_backup(
        schedule.state_dir,
        schedule.location,
        database_url=schedule.database_url,
        key=schedule.key,
    )
    prune(schedule.location, schedule.keep)
    return result


async def run_schedule(
    schedule: BackupSchedule,
    *,
    on_backup: Callable[[BackupResult], None] | None = None,
    on_error: Callable[[BackupError], None] | None = None,
) -> None:
    """Back up every ``every_seconds`` until cancelled (the first one after one interval)."""
    select_expired([], schedule.keep)  # refuse keep < 1 before the first round
    while True:
        await asyncio.sleep(schedule.every_seconds)
        try:
            result = await asyncio.to_thread(backup_once, schedule)
        except BackupError as error:
            if on_error is not None:
                on_error(error)
            continue
        if on_backup is not None:
            on_backup(result)
