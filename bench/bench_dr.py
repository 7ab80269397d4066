"""Benchmark: `bulut dr` backup and restore, and the local RTO of the sample app, each
beside a plain file copy of the same state measured in the same run.

    .venv/bin/python bench/bench_dr.py [--runs 2] [--sizes 10000,100000] [--skip-rto]
                                       [--builds-in-state]

Part 1 (files only, no servers): a state dir with a broker log of N settled events (their
delivery outcomes and cursors) and the audit function's database with as many rows. For
each N: backup time and size (SQLite backup API + sha256 + manifest, to a directory) and
restore time (fetch + verify + place) beside ``shutil.copytree`` of the same state, there
and back.

Part 2 (RTO of the sample app): `bulut up` as `make up` runs it (gitops/overlays/dev:
orders, inventory, payments, notifications, audit; OpenBao; the broker), with revision
builds outside the state dir, as `bulut up` keeps them by default (~/.cache/bulut/builds;
here .bulut/bench-builds): they are a cache, like images in a registry, and a backup holds
only their recipes. ``--builds-in-state`` keeps them in the state dir instead, so the
disaster deletes them too and the restore rebuilds them. One order is placed and paid, the
platform is stopped, N settled events go into the broker log and N rows into the audit
database, and it runs again. Then, for each N:

- **restart**: kill -9 and start on the intact state (no restore: the floor for any RTO);
- **live backup**: `bulut dr backup` while it runs, kill -9, delete the state dir,
  `bulut dr restore`, start;
- **plain copy**: stop it, ``shutil.copytree`` the state dir away, delete it, copy it back,
  start (what restoring a cold file copy costs; no checksums, no consistency while running);
- **stopped backup**: a `bulut dr backup` of the same stopped state, delete, restore, start.

RTO = the disaster (kill -9, or the delete for a stopped platform) → the first good
response: ``GET /orders/<id>`` of the order placed before the backup answers 200 with
status ``paid`` and the e-mail decrypted through Vault Transit (so the control plane,
serving, the orders database and Vault are all back). Every backup and restore prints
its phases, and every start its milestones (seconds after `bulut up` was launched: OpenBao
spawned, the data plane answering, the orders zygote and all five zygotes spawned, the
first good response), which show where the time after a restore goes.

``--runs N`` repeats the four ways back N times per size and prints the median (min-max).
The machine is shared and small (2 cores): figures move by a second or two between runs;
read the ratios to the same-run baselines, and run it twice. About 2 minutes per run of
both sizes. Loopback only; every process it starts is stopped by its pid.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bulut.dr.locations import DirectoryLocation
from bulut.dr.restore import RestoreResult, restore_backup
from bulut.dr.snapshot import BackupResult, take_backup
from bulut.eventing.log import SCHEMA as LOG_SCHEMA

REPO = Path(__file__).resolve().parents[1]
NAMESPACE = "shop-dev"
ORDERS_HOST = f"orders.{NAMESPACE}.localhost"
AUDIT_TRIGGER = f"{NAMESPACE}/audit-function-trigger-0"
READY_TIMEOUT = 600.0
HEADERS = b"\n".join(
    [b"ce-specversion:1.0", b"ce-source:/bench", b"ce-type:com.example.bench",
     b"content-type:application/json", b"traceparent:00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01"]
)  # fmt: skip
BODY = b'{"order": "o-000000", "amount": 4200, "currency": "EUR", "items": [1, 2, 3]}'
AUDIT_SCHEMA = """
create table if not exists audit_log(
  seq integer not null, source varchar not null, event_id varchar not null,
  type varchar not null, subject varchar, time varchar, attributes varchar not null,
  data varchar, received_at datetime not null, primary key(seq), unique(source, event_id));
"""


# -- state ------------------------------------------------------------------------------


def fill_log(log: Path, count: int) -> tuple[int, int]:
    """Append ``count`` settled events (event, the audit trigger's outcome) to a broker log
    in its own schema, and move every trigger's cursor past them; returns (first, last)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(log, timeout=30.0)) as db:
        db.execute("pragma journal_mode=wal")
        db.executescript(LOG_SCHEMA)  # the broker's own schema
        first = int(db.execute("select coalesce(max(seq), 0) from events").fetchone()[0]) + 1
        seqs = range(first, first + count)
        now = time.time()
        db.executemany(
            "insert into events values (?,?,?,?,?,?,?,?,?,?)",
            ((s, NAMESPACE, "default", f"bench-{s}", "/bench", "com.example.bench", 255,
              HEADERS + f"\nce-id:bench-{s}".encode(), BODY, now) for s in seqs),
        )  # fmt: skip
        db.executemany(
            "insert into deliveries values (?,?,?,?,?,?,?,?,?)",
            ((s, AUDIT_TRIGGER, "delivered", 1, 204, f"http://audit.{NAMESPACE}.localhost",
              "", "[]", now) for s in seqs),
        )  # fmt: skip
        last = first + count - 1
        db.execute("update cursors set seq = max(seq, ?)", (last,))
        db.execute(
            "insert into cursors values (?,?,?,?) on conflict(trigger) do update"
            " set seq = max(seq, excluded.seq)",
            (AUDIT_TRIGGER, NAMESPACE, "default", last),
        )
        db.commit()
    return first, last


def fill_audit(path: Path, first: int, last: int) -> None:
    """The audit function's own rows for the same events."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=30.0)) as db:
        db.execute("pragma journal_mode=wal")
        db.executescript(AUDIT_SCHEMA)
        top = int(db.execute("select coalesce(max(seq), 0) from audit_log").fetchone()[0])
        db.executemany(
            "insert or ignore into audit_log values (?,?,?,?,?,?,?,?,?)",
            ((top + s, "/bench", f"bench-{s}", "com.example.bench", None, None,
              '{"specversion": "1.0"}', BODY.decode(), "2026-11-28 00:00:00")
             for s in range(first, last + 1)),
        )  # fmt: skip
        db.commit()


def size_of(root: Path) -> int:
    """Bytes under a folder (what a copy would move)."""
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def clock(call: Callable[[], object]) -> float:
    """Seconds a zero-argument call takes."""
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def phases(result: RestoreResult | BackupResult) -> str:
    """``name 0.012`` for every phase that took 5 ms or more."""
    shown = [f"{name} {s:.3f}" for name, s in result.phases.items() if s >= 0.005]
    return ", ".join(shown) or "-"


# -- part 1 -----------------------------------------------------------------------------


def files_only(count: int, work: Path) -> dict[str, float]:
    """Part 1 for one size; its figures."""
    state = work / f"state-{count}"
    first, last = fill_log(state / "eventing" / "broker.db", count)
    fill_audit(state / "volumes" / NAMESPACE / "audit" / "tmp" / "audit.db", first, last)
    location = DirectoryLocation(work / f"backups-{count}")
    backup = take_backup(state, location)
    restored = restore_backup(location, work / f"restored-{count}")
    copy_s = clock(lambda: shutil.copytree(state, work / f"copy-{count}"))
    back_s = clock(lambda: shutil.copytree(work / f"copy-{count}", work / f"back-{count}"))
    print(
        f"{count:>7} events | backup {backup.seconds:6.3f}s {backup.manifest.size / 1e6:6.1f} MB"
        f" | restore {restored.seconds:6.3f}s | copy {copy_s:6.3f}s"
        f" {size_of(state) / 1e6:6.1f} MB, back {back_s:6.3f}s"
        f" | backup/copy x{backup.seconds / copy_s:4.1f}"
        f", restore/back x{restored.seconds / back_s:4.1f}"
    )
    print(f"        restore phases: {phases(restored)}")
    return {
        "backup_s": round(backup.seconds, 3),
        "restore_s": round(restored.seconds, 3),
        "copy_s": round(copy_s, 3),
        "copy_back_s": round(back_s, 3),
        "backup_to_copy": round(backup.seconds / copy_s, 2),
        "restore_to_copy_back": round(restored.seconds / back_s, 2),
    }


# -- part 2 -----------------------------------------------------------------------------


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Milestones:
    """When, after ``bulut up`` was started, its parts appeared: a poll of /proc every 20 ms.

    ``bao``: OpenBao for this state dir is spawned (the CLI has imported and set up);
    ``http``: the data plane answers anything; ``orders zygote``: the orders revision's
    template process is spawned; ``all zygotes``: the five revisions'; ``good``: the probe.
    """

    state_dir: Path
    started: float = field(default_factory=time.time)
    seen: dict[str, float] = field(default_factory=dict)
    before: frozenset[str] = frozenset()
    parent: int = 0  # the `bulut up` process: zygotes are its children
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def watch(self) -> None:
        """Start polling (call before starting the platform)."""
        self.before = frozenset(pid for pid in os.listdir("/proc") if pid.isdigit())
        self._thread = threading.Thread(target=self._poll, name="milestones", daemon=True)
        self._thread.start()

    def mark(self, name: str) -> None:
        """Record ``name`` now, unless it was seen before."""
        self.seen.setdefault(name, time.time())

    def _poll(self) -> None:
        known = set(self.before)  # processes of an earlier start may still be exiting
        zygotes: set[str] = set()
        while not self._stop.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit() or pid in known:
                    continue
                with contextlib.suppress(OSError):
                    command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                    if b"bulut.cli.main" not in command:  # else: forked, not exec'd yet
                        known.add(pid)
                    if b"bao server" in command and str(self.state_dir).encode() in command:
                        self.mark("bao")
                    if b"zygote_host.py zygote" in command:
                        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                        if int(stat[1]) != self.parent:  # an instance forked from a zygote
                            continue
                        zygotes.add(pid)
                        if b"functions/orders" in command:
                            self.mark("orders zygote")
                        if len(zygotes) == 5:
                            self.mark("all zygotes")
            self._stop.wait(0.02)

    def stop(self) -> str:
        """Stop polling; the milestones as ``name +s`` from the start."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        order = ("bao", "http", "orders zygote", "all zygotes", "good")
        return ", ".join(
            f"{name} +{self.seen[name] - self.started:.2f}" for name in order if name in self.seen
        )


@dataclass
class SampleApp:
    """`bulut up` with the sample app, in its own session (kill() is kill -9 of the group)."""

    state_dir: Path
    builds_dir: Path  # BULUT_BUILDS_DIR: a shared cache, or inside the state dir
    log_path: Path
    zygote_starts: str = ""  # BULUT_ZYGOTE_STARTS, how many zygotes import at once
    data_port: int = field(default_factory=free_port)
    control_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    milestones: Milestones | None = None
    timeline: str = ""

    def start(self) -> None:
        """Start it (returns at once); :attr:`timeline` is filled by :meth:`first_good`."""
        self.milestones = Milestones(self.state_dir)
        self.milestones.watch()
        environ = {k: v for k, v in os.environ.items() if not k.startswith("BULUT_")}
        if self.zygote_starts:
            environ["BULUT_ZYGOTE_STARTS"] = self.zygote_starts
        environ["BULUT_BUILDS_DIR"] = str(self.builds_dir)
        command = [sys.executable, "-m", "bulut.cli.main", "up", "--no-kubeconfig",
                   "--state-dir", str(self.state_dir), "--data-port", str(self.data_port),
                   "--control-port", str(self.control_port), "--wait", "600"]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, env=environ, start_new_session=True,
            )  # fmt: skip
        self.milestones.parent = self.process.pid

    def kill(self) -> None:
        """kill -9 the process group (the runtime, its instances; OpenBao follows it)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        """SIGTERM (the Ctrl-C path), kill -9 after 20 s."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20.0)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None

    def client(self) -> httpx.Client:
        """A client for the data plane, Host header set to the orders service."""
        return httpx.Client(
            base_url=f"http://127.0.0.1:{self.data_port}",
            headers={"host": ORDERS_HOST},
            timeout=10.0,
        )

    def first_good(self, order_id: str) -> float:
        """Poll until ``GET /orders/<id>`` is good; returns the time (time.time()) of it."""
        deadline = time.monotonic() + READY_TIMEOUT
        with self.client() as client:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise RuntimeError(f"bulut up exited; see {self.log_path}")
                with contextlib.suppress(httpx.TransportError, ValueError):
                    response = client.get(f"/orders/{order_id}")
                    good = time.time()
                    if self.milestones is not None:
                        self.milestones.mark("http")
                    order = response.json() if response.status_code == 200 else {}
                    if order.get("status") == "paid" and order.get("email") == "a***@example.com":
                        if self.milestones is not None:
                            self.milestones.mark("good")
                            self.timeline = self.milestones.stop()
                        return good
                time.sleep(0.02)
        raise RuntimeError(f"no good response within {READY_TIMEOUT:.0f} s; see {self.log_path}")

    def place_order(self) -> str:
        """One order through the whole saga (orders → inventory → payments → orders)."""
        order = {"customer": "ada", "email": "ada@example.com", "card_token": "tok_ok",
                 "items": [{"sku": "WIDGET-1", "quantity": 1}]}  # fmt: skip
        deadline = time.monotonic() + READY_TIMEOUT
        with self.client() as client:
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    response = client.post("/orders", json=order)
                    if response.status_code == 201:
                        order_id = str(response.json()["id"])
                        self.first_good(order_id)  # paid: the saga went through
                        return order_id
                time.sleep(0.2)
        raise RuntimeError(f"could not place an order; see {self.log_path}")


@dataclass
class Row:
    """One way back and what it cost."""

    name: str
    rto: float
    restore: float | None = None
    note: str = ""
    timeline: str = ""


@contextlib.contextmanager
def sample_app(
    work: Path, builds_in_state: bool, zygote_starts: str = ""
) -> Iterator[tuple[SampleApp, str]]:
    """The sample app started once with one paid order; stopped (by pid) at the end."""
    builds = work / "state" / "builds" if builds_in_state else REPO / ".bulut" / "bench-builds"
    app = SampleApp(work / "state", builds, work / "platform.log", zygote_starts)
    try:
        app.start()
        order_id = app.place_order()
        yield app, order_id
    finally:
        app.kill()


def _events_in(log: Path) -> int:
    with closing(sqlite3.connect(log, timeout=30.0)) as db:
        return int(db.execute("select count(*) from events").fetchone()[0])


def grow(app: SampleApp, order_id: str, events: int) -> None:
    """Stop the app, bring its log (and the audit database) to ``events``, start it again."""
    state = app.state_dir
    app.stop()
    have = _events_in(state / "eventing" / "broker.db")
    if events > have:
        first, last = fill_log(state / "eventing" / "broker.db", events - have)
        fill_audit(state / "volumes" / NAMESPACE / "audit" / "tmp" / "audit.db", first, last)
    app.start()
    app.first_good(order_id)


def once(app: SampleApp, order_id: str, work: Path, tag: str) -> list[Row]:
    """Each way back once; the app runs again when it returns."""
    state = app.state_dir
    builds = app.builds_dir
    location = DirectoryLocation(work / f"backups-{tag}")
    rows = []

    disaster = time.time()
    app.kill()
    app.start()
    rto = app.first_good(order_id) - disaster
    rows.append(Row(RESTART, rto, timeline=app.timeline))

    live = take_backup(state, location)
    disaster = time.time()
    app.kill()
    shutil.rmtree(state)
    restored = restore_backup(location, state, backup_id=live.manifest.id, builds_dir=builds)
    app.start()
    rto = app.first_good(order_id) - disaster
    note = (
        f"backup {live.seconds:.2f}s {live.manifest.size / 1e6:.1f} MB ({phases(live)});"
        f" restore: {phases(restored)}"
    )
    rows.append(Row(LIVE, rto, restored.seconds, note, app.timeline))

    app.stop()
    copy = work / f"copy-{tag}"
    copy_s = clock(lambda: shutil.copytree(state, copy, symlinks=True))
    stopped = take_backup(state, location)
    disaster = time.time()
    shutil.rmtree(state)
    back_s = clock(lambda: shutil.copytree(copy, state, symlinks=True))
    app.start()
    rto = app.first_good(order_id) - disaster
    note = f"copy {copy_s:.2f}s {size_of(copy) / 1e6:.1f} MB, back {back_s:.2f}s"
    rows.append(Row(COPY, rto, back_s, note, app.timeline))
    shutil.rmtree(copy, ignore_errors=True)

    app.stop()
    disaster = time.time()
    shutil.rmtree(state)
    restored = restore_backup(location, state, backup_id=stopped.manifest.id, builds_dir=builds)
    app.start()
    rto = app.first_good(order_id) - disaster
    note = (
        f"backup {stopped.seconds:.2f}s {stopped.manifest.size / 1e6:.1f} MB;"
        f" restore: {phases(restored)}"
    )
    rows.append(Row(STOPPED, rto, restored.seconds, note, app.timeline))
    return rows


RESTART = "restart: kill -9, start on the intact state"
LIVE = "live backup: kill -9, delete, restore, start"
COPY = "plain copy: stop, copytree away, delete, copytree back, start"
STOPPED = "stopped backup: delete, restore, start"


def report(events: int, runs: list[list[Row]]) -> dict[str, dict[str, float]]:
    """Median RTO per way back (min-max over the runs), with ratios to the restart and to
    the plain copy of the same run; then each run's notes and start timeline. Returns the
    medians and ratios per way back (named before its ``:``)."""
    by_name: dict[str, list[Row]] = {}
    for run in runs:
        for row in run:
            by_name.setdefault(row.name, []).append(row)
    median = {name: statistics.median(r.rto for r in rows) for name, rows in by_name.items()}
    print(f"sample app, {events} settled events in the broker log and the audit database")
    print(f"  RTO median of {len(runs)} (min-max), restore, ratio to restart and to plain copy:")
    for name, rows in by_name.items():
        restores = [r.restore for r in rows if r.restore is not None]
        restore = f"restore {statistics.median(restores):5.2f}s" if restores else " " * 13
        print(
            f"  {name:<62} RTO {median[name]:5.2f} s"
            f" ({min(r.rto for r in rows):5.2f}-{max(r.rto for r in rows):5.2f})  {restore}"
            f"  x{median[name] / median[RESTART]:4.2f} restart  x{median[name] / median[COPY]:4.2f}"
            " copy"
        )
    for number, run in enumerate(runs, 1):
        for row in run:
            print(f"    run {number} {row.name.split(':')[0]}: RTO {row.rto:.2f} s")
            if row.note:
                print(f"      {row.note}")
            print(f"      start (s after `bulut up`): {row.timeline}")
    return {
        name.split(":")[0]: {
            "rto_s": round(median[name], 2),
            "to_restart": round(median[name] / median[RESTART], 2),
            "to_copy": round(median[name] / median[COPY], 2),
        }
        for name in by_name
    }


def main() -> None:
    """Run both parts."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="events per run, ascending")
    parser.add_argument("--skip-rto", action="store_true", help="only part 1 (no servers)")
    parser.add_argument("--runs", type=int, default=1, help="repetitions of part 2 per size")
    parser.add_argument(
        "--zygote-starts",
        default="",
        help="BULUT_ZYGOTE_STARTS for the platform (default: its own, one per CPU)",
    )
    parser.add_argument(
        "--builds-in-state",
        action="store_true",
        help="keep revision builds in the state dir (lost with it) instead of a shared cache",
    )
    args = parser.parse_args()
    sizes = sorted(map(int, args.sizes.split(",")))
    load_before = [round(value, 2) for value in os.getloadavg()]
    figures: dict[str, dict[str, object]] = {"files": {}, "rto": {}}
    with tempfile.TemporaryDirectory(prefix="bulut-bench-dr-") as temporary:
        print("== backup/restore vs plain copy (files only, same run, directory location)")
        for count in sizes:
            figures["files"][str(count)] = files_only(count, Path(temporary))
    if args.skip_rto:
        record(figures, load_before)
        return
    print("== local RTO of the sample app (disaster -> first good GET /orders/<id>)")
    # Under the project's .bulut/, not /tmp: instances see pod-private /tmp paths remapped.
    (REPO / ".bulut").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-dr-", dir=REPO / ".bulut"))
    try:
        with sample_app(work, args.builds_in_state, args.zygote_starts) as (app, order_id):
            for count in sizes:
                grow(app, order_id, count)
                runs = [once(app, order_id, work, f"{count}-{n}") for n in range(args.runs)]
                figures["rto"][str(count)] = report(count, runs)
    except BaseException:
        print(f"failed: the platform's log and state are kept in {work}", file=sys.stderr)
        raise
    shutil.rmtree(work, ignore_errors=True)
    record(figures, load_before)


def record(figures: dict[str, dict[str, object]], load_before: list[float]) -> None:
    """Add the figures to the bench history under `make bench` (nothing otherwise)."""
    if os.environ.get("BULUT_BENCH_RUN"):
        from bench import history

        history.record("dr", figures, load_before)


if __name__ == "__main__":
    main()
