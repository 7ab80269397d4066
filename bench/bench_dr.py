"""Benchmark: `bulut dr` backup and restore against a plain file copy, same run.

Part 1 (files only): a state dir with a broker log of 10k and 100k events (with their
delivery outcomes) and a subscriber database with as many rows. For each size, prints
backup time and size (SQLite backup API + sha256 + manifest, to a directory) and restore
time (fetch + verify + place) beside ``shutil.copytree`` of the same state there and back.

Part 2 (local RTO, the drill app — the sample app needs minutes of function builds, so
it is not used here): `bulut up` with disaster-recovery/drills/app, 100k delivered events
injected into its log and the recorder's database, then

- a live backup (Vault as a Raft snapshot), kill -9, delete the state dir, restore, start:
  RTO = disaster → first good response;
- a backup of the stopped platform (Vault as files), delete, restore, start: RTO again;
- baseline: kill -9 and restart on the intact state dir (no restore).

Run: ``.venv/bin/python bench/bench_dr.py`` (about a minute). Loopback only.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from contextlib import closing
from pathlib import Path

from bulut.dr.drills.runner import PlatformProcess, wait_until_serving
from bulut.dr.drills.scenario import load_scenario
from bulut.dr.locations import DirectoryLocation
from bulut.dr.restore import restore_backup
from bulut.dr.snapshot import take_backup

REPO = Path(__file__).resolve().parents[1]
HEADERS = b"\n".join(
    [b"ce-specversion:1.0", b"ce-source:/bench", b"ce-type:dev.bulut.bench",
     b"content-type:application/json", b"traceparent:00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01"]
)  # fmt: skip
BODY = b'{"order": "o-000000", "amount": 4200, "currency": "EUR", "items": [1, 2, 3]}'


def fill_log(log: Path, count: int, first: int = 1) -> None:
    """``count`` delivered events (event, outcome, cursor) in the broker log's schema."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(log)) as db:
        db.execute("pragma journal_mode=wal")
        db.executescript(
            "create table if not exists events(seq integer primary key, namespace text, broker"
            " text, id text, source text, type text, ttl integer, headers blob, body blob,"
            " received real); create index if not exists events_by_id on events(id);"
            "create table if not exists deliveries(seq integer, trigger text, outcome text,"
            " attempts integer, code integer, destination text, detail text, history text,"
            " finished real, primary key(seq, trigger)); create table if not exists cursors("
            "trigger text primary key, namespace text, broker text, seq integer);"
        )
        now = time.time()
        seqs = range(first, first + count)
        db.executemany(
            "insert into events values (?,?,?,?,?,?,?,?,?,?)",
            ((s, "drill", "default", f"bench-{s}", "/bench", "dev.bulut.bench", 255,
              HEADERS + f"\nce-id:bench-{s}".encode(), BODY, now) for s in seqs),
        )  # fmt: skip
        db.executemany(
            "insert into deliveries values (?,?,?,?,?,?,?,?,?)",
            ((s, "drill/recorder", "delivered", 1, 204, "http://recorder.drill.localhost",
              "", "[]", now) for s in seqs),
        )  # fmt: skip
        db.execute(
            "insert into cursors values ('drill/recorder','drill','default',?) on conflict"
            "(trigger) do update set seq = max(seq, excluded.seq)",
            (first + count - 1,),
        )
        db.commit()


def fill_recorder(path: Path, count: int, first: int = 1) -> None:
    """The subscriber's own rows for the same events."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as db:
        db.execute("pragma journal_mode=wal")
        db.execute(
            "create table if not exists seen(id text primary key, source text, type text, at real)"
        )
        db.executemany(
            "insert or ignore into seen values (?,?,?,?)",
            ((f"bench-{s}", "/bench", "dev.bulut.bench", 0.0) for s in range(first, first + count)),
        )
        db.commit()


def size_of(root: Path) -> int:
    """Bytes under a folder."""
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def files_only(count: int, work: Path) -> None:
    """Part 1 for one size."""
    state = work / f"state-{count}"
    fill_log(state / "eventing" / "eventing" / "broker.db", count)
    fill_recorder(state / "volumes" / "drill" / "recorder" / "recorder.db", count)
    location = DirectoryLocation(work / f"backups-{count}")

    started = time.perf_counter()
    result = take_backup(state, location)
    backup_s = time.perf_counter() - started
    started = time.perf_counter()
    restore_backup(location, work / f"restored-{count}")
    restore_s = time.perf_counter() - started

    started = time.perf_counter()
    shutil.copytree(state, work / f"copy-{count}")
    copy_s = time.perf_counter() - started
    started = time.perf_counter()
    shutil.copytree(work / f"copy-{count}", work / f"copyback-{count}")
    copyback_s = time.perf_counter() - started

    print(
        f"{count:>7} events | backup {backup_s:6.3f}s {result.manifest.size / 1e6:7.1f} MB"
        f" | restore {restore_s:6.3f}s | plain copy {copy_s:6.3f}s"
        f" {size_of(state) / 1e6:7.1f} MB, back {copyback_s:6.3f}s"
        f" | backup/copy x{backup_s / copy_s:5.1f}"
    )


def rto(events: int) -> None:
    """Part 2: RTO of the drill app with ``events`` delivered events."""
    scenario = load_scenario(REPO / "disaster-recovery" / "drills" / "standard.yaml")
    # The platform's state lives under the project's .bulut/ (pod-private /tmp paths are
    # remapped per instance, so a state dir in /tmp would be rewritten).
    (REPO / ".bulut").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-dr-", dir=REPO / ".bulut"))
    state = work / "rto-state"
    platform = PlatformProcess(scenario, state, REPO, work / "platform.log")
    platform.start()
    wait_until_serving(platform, scenario, 300)
    platform.stop()
    fill_log(state / "eventing" / "eventing" / "broker.db", events, first=1_000_000)
    fill_recorder(state / "volumes" / "drill" / "recorder" / "recorder.db", events, 1_000_000)

    # Baseline: kill -9 and restart on the intact state.
    platform.start()
    wait_until_serving(platform, scenario, 300)
    disaster = time.time()
    platform.kill()
    platform.start()
    restart_rto = wait_until_serving(platform, scenario, 300) - disaster

    # Live backup (Vault: Raft snapshot), then lose everything.
    location = DirectoryLocation(work / "rto-backups")
    live = take_backup(state, location)
    disaster = time.time()
    platform.kill()
    shutil.rmtree(state)
    started = time.perf_counter()
    restore_backup(location, state, backup_id=live.manifest.id)
    live_restore_s = time.perf_counter() - started
    platform.start()
    live_rto = wait_until_serving(platform, scenario, 300) - disaster

    # Backup of the stopped platform (Vault as files), then lose everything.
    platform.stop()
    cold = take_backup(state, location)
    disaster = time.time()
    shutil.rmtree(state)
    restore_backup(location, state, backup_id=cold.manifest.id)
    platform.start()
    cold_rto = wait_until_serving(platform, scenario, 300) - disaster
    platform.stop()
    shutil.rmtree(work, ignore_errors=True)

    print(f"drill app, {events} delivered events in the log and the recorder:")
    print(f"  baseline: kill -9 + restart on intact state      RTO {restart_rto:6.2f} s")
    print(
        f"  live backup ({live.seconds:.2f}s, {live.manifest.size / 1e6:.1f} MB, vault "
        f"{live.manifest.vault}) → restore {live_restore_s:.2f}s   RTO {live_rto:6.2f} s"
    )
    print(
        f"  stopped backup ({cold.seconds:.2f}s, vault {cold.manifest.vault}) → restore"
        f"            RTO {cold_rto:6.2f} s"
    )


def main() -> None:
    """Run both parts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--rto-events", type=int, default=100_000)
    parser.add_argument("--skip-rto", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bulut-bench-dr-") as temporary:
        work = Path(temporary)
        print("== backup/restore vs plain copy (same run, directory location)")
        for count in map(int, args.sizes.split(",")):
            files_only(count, work)
        if not args.skip_rto:
            print("== local RTO")
            rto(args.rto_events)


if __name__ == "__main__":
    main()
