"""Log shipping: copy newly accepted broker events to the backup location continuously.

A backup bounds data loss by its age; shipping bounds it by the shipping interval.
:class:`LogShipper` reads the broker log through its own read-only SQLite connection
(WAL lets it read while the runtime writes), packs the events above the last shipped
sequence number into one segment ``log/<first>-<last>-<sha16>.jsonl.gz`` and uploads it.
The name carries the first 16 hex digits of the segment's sha256, checked on replay.

On restore, :func:`replay` inserts the shipped events newer than the backup's log
position into the restored log; they have no delivery outcome yet, so the dispatcher
delivers them (at least once) when the platform starts.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulut.errors import BackupError

from .eventlog import events_after, find_logs
from .locations import Location
from .manifest import Manifest

PREFIX = "log/"
_SEGMENT = re.compile(r"^log/(\d{12})-(\d{12})-([0-9a-f]{16})\.jsonl\.gz$")
COLUMNS = ("seq", "namespace", "broker", "id", "source", "type", "ttl", "headers", "body")


@dataclass(frozen=True, order=True)
class Segment:
    """A shipped segment: events ``first..last`` inclusive."""

    first: int
    last: int
    key: str = field(compare=False)
    sha16: str = field(compare=False)


def parse_segment(key: str) -> Segment | None:
    """The segment a key names, or None for other keys."""
    match = _SEGMENT.match(key)
    if match is None:
        return None
    return Segment(int(match.group(1)), int(match.group(2)), key, match.group(3))


def encode_segment(rows: Iterable[tuple[Any, ...]]) -> tuple[bytes, int, int]:
    """Rows as gzip'd JSON lines (blobs base64); returns (data, first seq, last seq)."""
    lines, first, last = [], 0, 0
    for row in rows:
        record = dict(zip((*COLUMNS, "received"), row, strict=True))
        record["headers"] = base64.b64encode(record["headers"]).decode()
        record["body"] = base64.b64encode(record["body"]).decode()
        lines.append(json.dumps(record, separators=(",", ":")))
        first = first or int(row[0])
        last = int(row[0])
    return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0), first, last


def decode_segment(data: bytes, segment: Segment) -> list[tuple[Any, ...]]:
    """Check a segment's sha256 prefix and return its rows."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    if digest != segment.sha16:
        raise BackupError(
            f"{segment.key}: checksum mismatch: name says sha256 {segment.sha16}…, "
            f"content has {digest}…"
        )
    rows = []
    for line in gzip.decompress(data).decode().splitlines():
        record = json.loads(line)
        record["headers"] = base64.b64decode(record["headers"])
        record["body"] = base64.b64decode(record["body"])
        rows.append(tuple(record[name] for name in (*COLUMNS, "received")))
    return rows


def shipped_segments(location: Location) -> list[Segment]:
    """Every shipped segment, in sequence order."""
    found = (parse_segment(key) for key in location.keys(PREFIX))
    return sorted(segment for segment in found if segment is not None)


@dataclass
class LogShipper:
    """Ships new broker events from ``state_dir`` to ``location`` every ``interval``."""

    state_dir: Path
    location: Location
    interval: float = 0.2
    shipped_seq: int = -1
    shipped_at: float = 0.0
    segments: int = 0

    def _log(self) -> Path | None:
        logs = find_logs(self.state_dir / "eventing")
        return logs[0] if logs else None

    def ship_once(self) -> int:
        """Ship what is new; returns how many events went out."""
        log = self._log()
        if log is None:
            return 0
        if self.shipped_seq < 0:
            known = shipped_segments(self.location)
            self.shipped_seq = known[-1].last if known else 0
        rows = list(events_after(log, self.shipped_seq, limit=20_000))
        if not rows:
            self.shipped_at = time.time()
            return 0
        data, first, last = encode_segment(rows)
        digest = hashlib.sha256(data).hexdigest()[:16]
        self.location.put_bytes(f"{PREFIX}{first:012d}-{last:012d}-{digest}.jsonl.gz", data)
        self.shipped_seq, self.shipped_at = last, time.time()
        self.segments += 1
        return len(rows)

    async def run(self) -> None:
        """Ship every ``interval`` until cancelled (I/O in a worker thread)."""
        while True:
            # The log may be mid-creation or the location briefly away: the next round retries.
            with contextlib.suppress(sqlite3.Error, BackupError, OSError):
                await asyncio.to_thread(self.ship_once)
            await asyncio.sleep(self.interval)


def replay(location: Location, staging: Path, manifest: Manifest) -> int:
    """Insert shipped events newer than the backup into the staged broker log."""
    logs = find_logs(staging / "eventing")
    if not logs:
        return 0
    added = 0
    columns = ", ".join((*COLUMNS, "received"))
    with closing(sqlite3.connect(logs[0])) as db:
        for segment in shipped_segments(location):
            if segment.last <= manifest.log.seq:
                continue
            data = location.get_bytes(segment.key)
            if data is None:
                raise BackupError(f"{segment.key}: listed but missing (partial upload)")
            rows = [row for row in decode_segment(data, segment) if int(row[0]) > manifest.log.seq]
            before = db.total_changes
            db.executemany(
                f"insert or ignore into events({columns}) values (?,?,?,?,?,?,?,?,?,?)", rows
            )
            added += db.total_changes - before
        db.commit()
    return added
