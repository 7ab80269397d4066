"""Backups of live SQLite state to a real S3 server (`rclone serve s3`) and through the CLI:
consistent while written, checksums equal after restore, corruption refused."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bulut.dr.drills.s3server import S3Server
from bulut.dr.locations import backup_ids
from bulut.dr.manifest import sha256_file
from bulut.dr.restore import restore_backup
from bulut.dr.schedule import BackupSchedule, backup_once
from bulut.dr.shipping import LogShipper, replay
from bulut.dr.snapshot import take_backup
from bulut.errors import BackupError

pytestmark = pytest.mark.integration

BULUT = [sys.executable, "-m", "bulut.cli.main"]
EVENTS = (
    "create table if not exists events(seq integer primary key, namespace, broker, id, source,"
    " type, ttl, headers, body, received)"
)


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[S3Server]:
    server = S3Server(tmp_path / "s3")
    server.start()
    yield server
    server.stop()


def _insert(path: Path, first: int, count: int) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("pragma journal_mode=wal")
        db.execute(EVENTS)
        for seq in range(first, first + count):
            db.execute(
                "insert into events values (?,?,?,?,?,?,?,?,?,?)",
                (seq, "drill", "default", f"e-{seq}", "/s", "t", 255, b"", b"{}", float(seq)),
            )


@pytest.fixture
def state(tmp_path: Path) -> Path:
    root = tmp_path / "state"
    (root / "eventing" / "eventing").mkdir(parents=True)
    _insert(root / "eventing" / "eventing" / "broker.db", 1, 500)
    (root / "volumes" / "drill" / "recorder").mkdir(parents=True)
    _insert(root / "volumes" / "drill" / "recorder" / "recorder.db", 1, 10)
    return root


def test_a_backup_taken_while_writing_is_consistent_and_restores_from_s3(
    state: Path, s3: S3Server, tmp_path: Path
) -> None:
    log = state / "eventing" / "eventing" / "broker.db"
    stop = threading.Event()

    def write() -> None:
        seq = 501
        while not stop.is_set():
            _insert(log, seq, 20)
            seq += 20

    writer = threading.Thread(target=write)
    writer.start()
    try:
        manifest = take_backup(state, s3.location()).manifest
    finally:
        stop.set()
        writer.join()
    target = tmp_path / "restored"
    restore_backup(s3.location(), target)
    for entry in manifest.files:
        assert sha256_file(target / entry.path) == entry.sha256, entry.path
    with closing(sqlite3.connect(target / "eventing" / "eventing" / "broker.db")) as db:
        count, top = db.execute("select count(*), max(seq) from events").fetchone()
    assert count == top == manifest.log.seq >= 500  # a prefix: no gaps, no torn rows


def test_a_corrupted_object_in_s3_is_refused_naming_the_file(
    state: Path, s3: S3Server, tmp_path: Path
) -> None:
    manifest = take_backup(state, s3.location()).manifest
    stored = tmp_path / "s3" / "backups" / "bulut" / manifest.id / "volumes" / "drill"
    victim = stored / "recorder" / "recorder.db"
    victim.write_bytes(b"\0" * victim.stat().st_size)
    with pytest.raises(BackupError) as caught:
        restore_backup(s3.location(), tmp_path / "restored")
    assert "volumes/drill/recorder/recorder.db: checksum mismatch" in str(caught.value)
    assert not (tmp_path / "restored").exists()


def test_shipped_events_newer_than_the_backup_are_replayed(
    state: Path, s3: S3Server, tmp_path: Path
) -> None:
    location = s3.location()
    log = state / "eventing" / "eventing" / "broker.db"
    shipper = LogShipper(state, location)
    assert shipper.ship_once() == 500
    manifest = take_backup(state, location).manifest
    _insert(log, 501, 25)
    assert shipper.ship_once() == 25
    result = restore_backup(
        location, tmp_path / "restored", after_fetch=lambda s, m: replay(location, s, m)
    )
    assert (manifest.log.seq, result.replayed) == (500, 25)
    restored = tmp_path / "restored" / "eventing" / "eventing" / "broker.db"
    with closing(sqlite3.connect(restored)) as db:
        assert db.execute("select count(*), max(seq) from events").fetchone() == (525, 525)


def test_scheduled_backups_keep_the_newest(state: Path, s3: S3Server) -> None:
    schedule = BackupSchedule(state, s3.location(), every_seconds=1.0, keep=2)
    made = [backup_once(schedule).manifest.id for _ in range(3)]
    assert backup_ids(s3.location()) == sorted(made)[-2:]


def test_the_cli_backs_up_verifies_and_restores_a_directory(state: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULUT_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # no default backup key of this machine
    backups, target = str(tmp_path / "backups"), str(tmp_path / "restored")

    def bulut(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*BULUT, "dr", *args], capture_output=True, text=True, env=env,
                              timeout=60)  # fmt: skip

    made = bulut("backup", "--state-dir", str(state), "--to", backups)
    assert made.returncode == 0, made.stderr
    assert "log seq 500" in made.stdout
    assert "all checksums match" in bulut("verify", "--from", backups).stdout
    restored = bulut("restore", "--from", backups, "--state-dir", target)
    assert restored.returncode == 0, restored.stderr
    assert (Path(target) / "eventing" / "eventing" / "broker.db").is_file()
    again = bulut("restore", "--from", backups, "--state-dir", target)
    assert again.returncode == 2 and "pass --force" in again.stderr


def test_the_cli_seals_vaults_unseal_key_with_a_backup_key(state: Path, tmp_path: Path) -> None:
    """`bulut dr keygen`, then backups whose Vault keys open only with that key."""
    vault = state / "vault"
    (vault / "data" / "raft").mkdir(parents=True)
    (vault / "data" / "raft" / "raft.db").write_bytes(b"raft pages")
    init = b'{"unseal_keys_b64": ["dW5zZWFs"], "root_token": "s.root-token-in-clear"}\n'
    (vault / "init.json").write_bytes(init)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULUT_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # no default backup key of this machine
    key, backups = tmp_path / "backup.key", tmp_path / "backups"

    def bulut(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*BULUT, "dr", *args], capture_output=True, text=True,
                              env={**env, **extra}, timeout=60)  # fmt: skip

    assert bulut("keygen", str(key)).returncode == 0
    again = bulut("keygen", str(key))
    assert again.returncode == 2 and "already exists" in again.stderr
    made = bulut("backup", "--state-dir", str(state), "--to", str(backups), "--key-file", str(key))
    assert made.returncode == 0, made.stderr
    assert "sealed with" in made.stdout and "vault/init.json" in made.stdout
    assert not any(b"s.root-token-in-clear" in p.read_bytes() for p in backups.rglob("*.*"))

    refused = bulut("restore", "--from", str(backups), "--state-dir", str(tmp_path / "r"))
    assert refused.returncode == 2 and "--key-file" in refused.stderr
    restored = bulut("restore", "--from", str(backups), "--state-dir", str(tmp_path / "r"),
                     BULUT_BACKUP_KEY_FILE=str(key))  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    assert (tmp_path / "r" / "vault" / "init.json").read_bytes() == init

    clear = bulut("backup", "--state-dir", str(state), "--to", str(tmp_path / "clear"))
    assert clear.returncode == 0 and "in clear" in clear.stderr

    # `bulut dr keygen` without a FILE writes the default key, used from then on.
    made_default = bulut("keygen")
    assert made_default.returncode == 0, made_default.stderr
    default = tmp_path / "config" / "bulut" / "backup.key"
    assert default.is_file() and "use it from now on" in made_default.stdout
    sealed = bulut("backup", "--state-dir", str(state), "--to", str(tmp_path / "default"))
    assert sealed.returncode == 0 and f"sealed with {default}" in sealed.stdout
    back = bulut("restore", "--from", str(tmp_path / "default"), "--state-dir", str(tmp_path / "d"))
    assert back.returncode == 0, back.stderr
    assert (tmp_path / "d" / "vault" / "init.json").read_bytes() == init
