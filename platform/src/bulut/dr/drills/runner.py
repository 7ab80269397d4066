"""Run a drill end to end against a real platform process (`bulut up` as a subprocess).

Init → seed → backup → (more traffic) → disaster → restore → verify → clean up, the
shape of Velero's own e2e cases (reference/cluster-ops.md §3.7). The platform runs as a
child process in its own session, so ``kill -9`` of its process group is a real crash;
files are really deleted or corrupted. Decisions (RTO, RPO, verdicts) live in
:mod:`.report`; this module only acts and records.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bulut.errors import BulutError, SecretUnavailableError
from bulut.secrets.connection import connect
from bulut.settings import Settings

from ..eventlog import event_ids, find_logs
from ..locations import DirectoryLocation, Location
from ..restore import restore_backup
from ..sealing import write_new_key
from ..shipping import LogShipper, replay
from ..snapshot import take_backup
from .report import Check, DrillReport, compute_loss, compute_rto, report_name
from .s3server import S3Server
from .scenario import Scenario

Progress = Callable[[str], None]
SECRET_PATH = "drill/probe"
TRANSIT_KEY = "drill-pii"
DELIVERY_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PlatformProcess:
    """`bulut up` in its own session; ``kill()`` is kill -9 of the whole group."""

    scenario: Scenario
    state_dir: Path
    workdir: Path
    log_path: Path
    builds_dir: Path
    data_port: int = field(default_factory=_free_port)
    control_port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        """The `bulut up` command line."""
        platform = self.scenario.platform
        source = ["-f", platform.filename] if platform.filename else ["-k", str(platform.kustomize)]
        return [
            sys.executable,
            "-m",
            "bulut.cli.main",
            "up",
            "--state-dir",
            str(self.state_dir),
            "--builds-dir",
            str(self.builds_dir),
            "--data-port",
            str(self.data_port),
            "--control-port",
            str(self.control_port),
            "--no-sample",
            "--no-kubeconfig",  # a drill's platform never becomes the user's kubectl context
            *source,
            "--wait",
            str(platform.start_timeout),
        ]

    def start(self) -> None:
        """Start the process (returns at once)."""
        log = self.log_path.open("ab")
        environ = {k: v for k, v in os.environ.items() if not k.startswith("BULUT_")}
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environ,
            start_new_session=True,
        )
        log.close()

    def kill(self) -> None:
        """kill -9 the process group and reap it."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        """SIGTERM (Ctrl-C path), then kill -9 after 15 s."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15.0)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

    @property
    def data_url(self) -> str:
        """The data plane."""
        return f"http://127.0.0.1:{self.data_port}"

    def alive(self) -> bool:
        """The process still runs."""
        return self.process is not None and self.process.poll() is None


def _probe(platform: PlatformProcess, scenario: Scenario, client: httpx.Client) -> bool:
    """One CloudEvent straight to the subscriber service: a 2xx is a good response."""
    sub = scenario.subscriber
    headers = {
        "host": f"{sub.name}.{sub.namespace}.localhost",
        "ce-specversion": "1.0",
        "ce-id": f"probe-{uuid.uuid4().hex[:12]}",
        "ce-source": "/bulut/drill/probe",
        "ce-type": "dev.bulut.drill.probe",
        "content-type": "application/json",
    }
    try:
        response = client.post(platform.data_url + "/", headers=headers, content=b"{}")
    except httpx.TransportError:
        return False
    return 200 <= response.status_code < 300


def wait_until_serving(platform: PlatformProcess, scenario: Scenario, timeout: float) -> float:
    """Poll until the subscriber answers a probe; returns the time of that response."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5.0) as client:
        while time.monotonic() < deadline:
            if not platform.alive():
                raise BulutError(
                    f"the platform exited with {platform.process and platform.process.returncode}"
                    f"; see {platform.log_path}"
                )
            if _probe(platform, scenario, client):
                return time.time()
            time.sleep(0.05)
    raise BulutError(f"the platform did not serve within {timeout:.0f} s; see {platform.log_path}")


async def _post_events(
    url: str, ids: list[str], scenario: Scenario, acks: dict[str, float]
) -> None:
    semaphore = asyncio.Semaphore(scenario.seed.concurrency)
    limits = httpx.Limits(max_connections=scenario.seed.concurrency)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:

        async def post(event_id: str) -> None:
            headers = {
                "ce-specversion": "1.0",
                "ce-id": event_id,
                "ce-source": "/bulut/drill",
                "ce-type": scenario.seed.type,
                "content-type": "application/json",
            }
            async with semaphore:
                with contextlib.suppress(httpx.TransportError):
                    response = await client.post(url, headers=headers, content=b'{"drill":true}')
                    if response.status_code == 202:
                        acks[event_id] = time.time()

        await asyncio.gather(*(post(event_id) for event_id in ids))


def send_seed(
    platform: PlatformProcess, scenario: Scenario, count: int, tag: str
) -> dict[str, float]:
    """POST ``count`` CloudEvents to the broker; returns acked id -> ack time."""
    url = f"{platform.data_url}/{scenario.seed.namespace}/{scenario.seed.name}"
    ids = [f"{tag}-{index:06d}" for index in range(count)]
    acks: dict[str, float] = {}
    asyncio.run(_post_events(url, ids, scenario, acks))
    return acks


def subscriber_ids(state_dir: Path, scenario: Scenario) -> set[str]:
    """Ids the subscriber recorded in its own database (empty when it has none yet)."""
    sub = scenario.subscriber
    path = state_dir / "volumes" / sub.namespace / sub.name / sub.database
    if not path.is_file():
        return set()
    try:
        with closing(sqlite3.connect(path, timeout=10.0)) as db:
            return {str(row[0]) for row in db.execute(f"select id from {sub.table}")}
    except sqlite3.Error:
        return set()


def wait_delivered(
    state_dir: Path, scenario: Scenario, expected: set[str], timeout: float
) -> set[str]:
    """Poll the subscriber's database until it holds ``expected`` (or time runs out)."""
    deadline = time.monotonic() + timeout
    seen = subscriber_ids(state_dir, scenario)
    while not expected <= seen and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = subscriber_ids(state_dir, scenario)
    return seen


def log_ids(state_dir: Path) -> set[str]:
    """Every event id in the broker log of ``state_dir``."""
    logs = find_logs(state_dir / "eventing")
    return event_ids(logs[0]) if logs else set()


@contextlib.contextmanager
def backup_location(scenario: Scenario, root: Path) -> Iterator[Location]:
    """A directory, or a real S3 server (`rclone serve s3`) over a folder."""
    if scenario.location == "directory":
        yield DirectoryLocation(root / "backups")
        return
    server = S3Server(root / "s3")
    server.start()
    try:
        yield server.location("drill")
    finally:
        server.stop()


@dataclass
class Shipping:
    """The log shipper on a thread, for the drill's continuous mode."""

    shipper: LogShipper
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Ship every interval until stopped."""

        def loop() -> None:
            while not self._stop.is_set():
                with contextlib.suppress(BulutError, sqlite3.Error, OSError):
                    self.shipper.ship_once()
                self._stop.wait(self.shipper.interval)

        self._thread = threading.Thread(target=loop, name="log-shipper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current round."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _platform_settings(settings: Settings, state_dir: Path) -> Settings:
    """What the drill's platform runs with: its own state dir and dev Vault (no BULUT_* env)."""
    return settings.model_copy(
        update={"state_dir": state_dir, "vault_addr": None, "vault_token": None}
    )


def _seed_secrets(settings: Settings) -> tuple[str, str]:
    vault = connect(settings)
    value = uuid.uuid4().hex
    vault.kv_put(SECRET_PATH, {"value": value})
    vault.ensure_transit_key(TRANSIT_KEY)
    return value, vault.encrypt(TRANSIT_KEY, value.encode())


def _check_secrets(settings: Settings, value: str, ciphertext: str) -> Check:
    try:
        vault = connect(settings)
        kv = vault.kv_get(SECRET_PATH).get("value")
        plain = vault.decrypt(TRANSIT_KEY, ciphertext).decode()
    except BulutError as error:
        return Check("secrets-readable", False, str(error))
    ok = kv == value and plain == value
    return Check(
        "secrets-readable",
        ok,
        "KV value and Transit ciphertext read back"
        if ok
        else "restored values differ from the seeded ones",
    )


def _disaster(kind: str, platform: PlatformProcess, state_dir: Path) -> None:
    platform.kill()
    if kind == "delete-state":
        shutil.rmtree(state_dir)
    elif kind == "corrupt-database":
        for path in (state_dir / "bulut.db", *find_logs(state_dir / "eventing")):
            size = path.stat().st_size
            with path.open("r+b") as handle:
                handle.seek(0)
                handle.write(os.urandom(min(size, 64 * 1024)))
            for side in ("-wal", "-shm"):
                Path(f"{path}{side}").unlink(missing_ok=True)
    elif kind == "lose-vault":
        shutil.rmtree(state_dir / "vault")


@dataclass
class DrillRunner:
    """Runs one :class:`Scenario` and returns its :class:`DrillReport`."""

    scenario: Scenario
    workdir: Path
    settings: Settings
    progress: Progress = field(default=lambda _message: None)
    keep: bool = False

    @property
    def builds_dir(self) -> Path:
        """Function environments: outside the state, so the disaster spares them."""
        return self.settings.builds

    def run(self) -> DrillReport:
        """Run the whole drill; the report records any failure instead of raising."""
        report = DrillReport(
            self.scenario.name,
            self.scenario.disaster,
            time.time(),
            objectives={
                "rtoSeconds": self.scenario.objectives.rto_seconds,
                "rpoEvents": float(self.scenario.objectives.rpo_events),
            },
        )
        # Under the project's .bulut/, not /tmp: the pod-spec hooks map pod-private /tmp
        # paths into each instance's own folder, which would rewrite a state dir in /tmp.
        drills = self.workdir / ".bulut" / "drills"
        drills.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix=f"{self.scenario.name}-", dir=drills))
        try:
            with backup_location(self.scenario, root) as location:
                self._run(report, root, location)
        except (BulutError, OSError, sqlite3.Error, httpx.HTTPError) as error:
            report.error = f"{type(error).__name__}: {error}"
        finally:
            if not self.keep:
                shutil.rmtree(root, ignore_errors=True)
        return report

    def _step(self, report: DrillReport, name: str, started: float) -> None:
        report.timings[name] = time.monotonic() - started

    def _run(self, report: DrillReport, root: Path, location: Location) -> None:
        scenario, say = self.scenario, self.progress
        state_dir = root / "state"
        platform = PlatformProcess(
            scenario, state_dir, self.workdir, root / "platform.log", self.builds_dir
        )
        shipping = Shipping(LogShipper(state_dir, location, interval=0.1))
        try:
            say("starting the platform")
            started = time.monotonic()
            platform.start()
            wait_until_serving(platform, scenario, scenario.platform.start_timeout)
            self._step(report, "platform start", started)

            say(f"seeding {scenario.seed.events} events")
            started = time.monotonic()
            acks = send_seed(platform, scenario, scenario.seed.events, "seed")
            secret_value, ciphertext = _seed_secrets(_platform_settings(self.settings, state_dir))
            wait_delivered(state_dir, scenario, set(acks), DELIVERY_TIMEOUT)
            self._step(report, "seed", started)
            if scenario.shipping:
                shipping.start()

            say("backing up the running platform")
            started = time.monotonic()
            key = write_new_key(root / "backup.key") if scenario.sealed else None
            backup = take_backup(state_dir, location, key=key)
            self._step(report, "backup", started)
            for name, seconds in backup.phases.items():
                report.timings[f"backup: {name}"] = seconds
            report.backup = {
                "id": backup.manifest.id,
                "location": shown_location(location.url, self.workdir),
                "files": len(backup.manifest.files),
                "bytes": backup.manifest.size,
                "sealed": list(backup.manifest.sealed),
                "logSeq": backup.manifest.log.seq,
                "vault": backup.manifest.vault,
                "seconds": round(backup.seconds, 3),
            }

            if scenario.seed.after_backup:
                say(f"sending {scenario.seed.after_backup} more events after the backup")
                acks.update(send_seed(platform, scenario, scenario.seed.after_backup, "after"))
                if scenario.restore == "backup":
                    # The disaster hits settled data (the shipped log then bounds the RPO);
                    # with "restart" it hits deliveries still in flight.
                    wait_delivered(state_dir, scenario, set(acks), DELIVERY_TIMEOUT)
                    time.sleep(3 * shipping.shipper.interval if scenario.shipping else 0)
            report.acked = len(acks)
            before = subscriber_ids(state_dir, scenario)

            say(f"disaster: {scenario.disaster}")
            disaster_at = time.time()
            shipping.stop()
            _disaster(scenario.disaster, platform, state_dir)

            if scenario.restore == "backup":
                say("restoring from the backup")
                started = time.monotonic()
                result = restore_backup(
                    location,
                    state_dir,
                    force=True,
                    only=frozenset({"vault"}) if scenario.disaster == "lose-vault" else None,
                    after_fetch=(
                        (lambda staging, manifest: replay(location, staging, manifest))
                        if scenario.shipping
                        else None
                    ),
                    builds_dir=self.builds_dir,
                    key=key,
                )
                report.restore_seconds = time.monotonic() - started
                for name, seconds in result.phases.items():
                    report.timings[f"restore: {name}"] = seconds
                report.replayed_events = result.replayed
                if result.moved_aside is not None:
                    shutil.rmtree(result.moved_aside, ignore_errors=True)

            say("starting the recovered platform")
            started = time.monotonic()
            platform.start()
            first_good = wait_until_serving(platform, scenario, scenario.platform.start_timeout)
            self._step(report, "recovered platform start to first good response", started)
            report.rto_seconds = compute_rto(disaster_at, first_good)

            say("verifying")
            seen = wait_delivered(state_dir, scenario, set(acks), DELIVERY_TIMEOUT)
            in_log = log_ids(state_dir)
            report.loss = compute_loss(acks, seen | in_log)
            report.checks = self._checks(
                report, acks, seen, in_log, before, state_dir, secret_value, ciphertext
            )
        finally:
            shipping.stop()
            platform.stop()

    def _checks(
        self,
        report: DrillReport,
        acks: dict[str, float],
        seen: set[str],
        in_log: set[str],
        before: set[str],
        state_dir: Path,
        secret_value: str,
        ciphertext: str,
    ) -> list[Check]:
        acked = set(acks)
        results = {
            "services-answer": Check(
                "services-answer", report.rto_seconds is not None, "the subscriber answered a probe"
            ),
            "no-acked-event-lost": Check(
                "no-acked-event-lost",
                acked <= seen,
                f"{len(acked & seen)} of {len(acked)} acked events delivered after recovery",
            ),
            "event-counts-match": Check(
                "event-counts-match",
                acked <= in_log,
                f"broker log holds {len(acked & in_log)} of {len(acked)} acked events",
            ),
            "function-data-matches": Check(
                "function-data-matches",
                before & acked <= seen,
                f"{len(before & acked & seen)} of {len(before & acked)} rows the subscriber had "
                "before the disaster are back",
            ),
        }
        checks = [results[name] for name in self.scenario.checks if name in results]
        if "secrets-readable" in self.scenario.checks:
            try:
                checks.append(
                    _check_secrets(
                        _platform_settings(self.settings, state_dir), secret_value, ciphertext
                    )
                )
            except SecretUnavailableError as error:
                checks.append(Check("secrets-readable", False, str(error)))
        return checks


def shown_location(url: str, workdir: Path) -> str:
    """A backup location as a report shows it: a folder inside ``workdir`` relative to it.

    A report is shared (committed as an example, attached to a ticket): it names no folder
    of the machine it ran on. URLs (``s3://...``) and folders elsewhere are kept as they are.
    """
    path, base = Path(url), workdir.resolve()
    if path.is_absolute() and path.is_relative_to(base):
        return str(path.relative_to(base))
    return url


def write_report(report: DrillReport, directory: Path) -> tuple[Path, Path]:
    """Write ``<scenario>-<time>.{md,json}``, and the same as ``<scenario>-latest.*``."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / report_name(report)
    markdown, document = stem.with_suffix(".md"), stem.with_suffix(".json")
    for target in (markdown, directory / f"{report.scenario}-latest.md"):
        target.write_text(report.to_markdown())
    for target in (document, directory / f"{report.scenario}-latest.json"):
        target.write_text(report.to_json())
    return markdown, document
