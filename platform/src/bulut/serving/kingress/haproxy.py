"""The ``haproxy`` process (Debian's /usr/sbin/haproxy 2.6) and its runtime API.

HAProxy serves a listening socket Bulut bound (``bind fd@N``: the port is Bulut's, chosen
and checked before anything starts, and it survives reloads). A new configuration (a
revision came or went) starts a new process with ``-sf``: the old one stops accepting and
finishes its requests, at most ``hard-stop-after``; each generation has its own runtime API
socket. Everything else (instances, maps) goes through the runtime API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import socket
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bulut.errors import BulutError, ConfigError

logger = logging.getLogger(__name__)

START_SECONDS = 10.0
STOP_SECONDS = 5.0
BATCH = 40  # commands per runtime API line
REFUSALS = ("Unknown", "No such", "not found", "Require", "failed", "invalid", "Invalid")


def executable() -> str | None:
    """The ``haproxy`` program on PATH (or in /usr/sbin, where Debian puts it)."""
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")


class RuntimeAPIError(BulutError):
    """HAProxy's runtime API refused a command."""


async def ask(path: Path, lines: Sequence[str]) -> str:
    """Send ``lines`` (joined with ``;`` in batches) to the runtime API; the answers."""
    answers: list[str] = []
    for start in range(0, len(lines), BATCH):
        reader, writer = await asyncio.open_unix_connection(str(path))
        try:
            writer.write(("; ".join(lines[start : start + BATCH]) + "\n").encode())
            await writer.drain()
            answers.append((await reader.read()).decode(errors="replace"))
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    return "".join(answers)


def refusals(answer: str) -> list[str]:
    """The lines of a runtime API answer that say a command failed."""
    return [line for line in answer.splitlines() if any(word in line for word in REFUSALS)]


class HAProxyProcess:
    """HAProxy generations on one listening socket; the newest answers the runtime API."""

    def __init__(self, folder: Path, listener: socket.socket, program: str | None = None) -> None:
        found = program or executable()
        if found is None:
            raise ConfigError("haproxy is not installed (apt-get install haproxy)")
        self.program = found
        self.folder = folder
        # Unix socket paths are limited to 107 bytes: a deep state dir gets a short one.
        self.sockets = folder
        if len(str(folder / "admin-0000.sock")) > 100:
            self.sockets = Path(tempfile.mkdtemp(prefix="bulut-haproxy-"))
        self.listener = listener
        self.generation = 0
        self.process: asyncio.subprocess.Process | None = None
        self._retiring: set[asyncio.Task[None]] = set()

    @property
    def bind(self) -> str:
        """The ``bind`` address for the configuration: the inherited listening socket."""
        return f"fd@{self.listener.fileno()}"

    def admin_socket(self, generation: int | None = None) -> Path:
        """The runtime API socket of a generation (the next one by default)."""
        number = self.generation + 1 if generation is None else generation
        return self.sockets / f"admin-{number}.sock"

    @property
    def admin(self) -> Path:
        """The runtime API socket of the running generation."""
        return self.admin_socket(self.generation)

    async def start(self, config: str) -> None:
        """Start a generation with ``config`` (made with :meth:`admin_socket`); the previous
        one, if any, finishes its requests and exits."""
        generation = self.generation + 1
        path = self.folder / f"haproxy-{generation}.cfg"
        path.write_text(config)
        admin = self.admin_socket(generation)
        admin.unlink(missing_ok=True)
        args = [self.program, "-db", "-f", str(path)]
        old = self.process
        if old is not None:
            args += ["-sf", str(old.pid)]
        errors = self.folder / f"haproxy-{generation}.log"  # its warnings and alerts
        with errors.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                *args,
                pass_fds=(self.listener.fileno(),),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=stderr,
            )
        try:
            await self._until_answering(process, admin, errors)
        except BulutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise
        self.process, self.generation = process, generation
        if old is not None:
            self._retire(old)
        for stale in [*self.folder.glob("haproxy-*.cfg"), *self.sockets.glob("admin-*.sock")]:
            if stale not in (path, admin):
                stale.unlink(missing_ok=True)

    async def _until_answering(
        self, process: asyncio.subprocess.Process, admin: Path, errors: Path
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_SECONDS
        while loop.time() < deadline:
            if process.returncode is not None:
                break
            if admin.exists():
                with contextlib.suppress(OSError):
                    if "Name: HAProxy" in await ask(admin, ["show info"]):
                        return
            await asyncio.sleep(0.01)
        message = errors.read_text(errors="replace").strip().splitlines()[-3:]
        raise ConfigError(f"haproxy did not start: {' / '.join(message) or 'no answer'}")

    def _retire(self, old: asyncio.subprocess.Process) -> None:
        async def wait() -> None:
            try:
                async with asyncio.timeout(STOP_SECONDS * 6):
                    await old.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    old.kill()
                await old.wait()

        task = asyncio.get_running_loop().create_task(wait())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def show(self, what: str) -> str:
        """One ``show`` command's answer (``show stat -1 2 -1``: the backends' counters)."""
        return await ask(self.admin, [f"show {what}"])

    async def command(self, lines: Sequence[str]) -> str:
        """Runtime API commands to the running generation; raises when one is refused."""
        if not lines:
            return ""
        answer = await ask(self.admin, lines)
        refused = refusals(answer)
        if refused:
            raise RuntimeAPIError(f"haproxy refused: {'; '.join(refused[:3])}")
        return answer

    async def stop(self) -> None:
        """Stop every generation (SIGUSR1: finish requests; SIGKILL after a grace)."""
        processes = [self.process] if self.process is not None else []
        self.process = None
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                async with asyncio.timeout(STOP_SECONDS):
                    await process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        await asyncio.gather(*self._retiring, return_exceptions=True)
        if self.sockets != self.folder:
            shutil.rmtree(self.sockets, ignore_errors=True)
