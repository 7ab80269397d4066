"""Zygotes: one template process per revision, forked into instances on demand.

The template (``zygote_host.py``, run by the function's own Python) has imported the
server, the runtime library and the function module and has served one in-process
request; a cold start is then a ``fork()`` of it (SOCK's technique, "primed" the way
SnapStart is). This module is the runtime's side: it starts the template, sends fork
commands over a socketpair and turns the template's event lines into futures.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulut.errors import InstanceError
from bulut.functions.environments import Environment
from bulut.functions.project import FunctionProject

HOST_PROGRAM = Path(__file__).with_name("zygote_host.py")


@dataclass(frozen=True)
class Workload:
    """What to run for a revision: the function's Python, its folder and its flavour."""

    python: Path
    project: Path
    flavour: str = "cloudevents"  # cloudevents | http | functions-framework
    target: str = ""
    signature_type: str = "cloudevent"
    readiness_path: str = "/health/readiness"

    @classmethod
    def of(
        cls, project: FunctionProject, environment: Environment, *, readiness_path: str
    ) -> Workload:
        """The workload of a function project built into ``environment``."""
        return cls(
            python=environment.python,
            project=project.path,
            flavour=project.flavour.value,
            target=project.target or "",
            signature_type=project.signature_type or "cloudevent",
            readiness_path=readiness_path,
        )

    @property
    def validates_events(self) -> bool:
        """True when requests are CloudEvents the data plane validates first."""
        if self.flavour == "functions-framework":
            return self.signature_type == "cloudevent"
        return self.flavour == "cloudevents"

    def host_args(self, mode: str) -> list[str]:
        """Command line of ``zygote_host.py`` in ``mode`` (zygote or serve)."""
        return [
            str(self.python),
            str(HOST_PROGRAM),
            mode,
            "--project",
            str(self.project),
            "--flavour",
            self.flavour,
            "--target",
            self.target,
            "--signature-type",
            self.signature_type,
            "--readiness",
            self.readiness_path,
        ]


@dataclass
class Child:
    """A process forked from a zygote (or spawned fresh): its pid, port and exit."""

    pid: int
    port: int
    exited: asyncio.Future[int] = field(repr=False)
    watcher: asyncio.Task[None] | None = field(default=None, repr=False)


class Zygote:
    """The runtime's handle on one template process."""

    def __init__(self, workload: Workload, env: Mapping[str, str], cwd: Path) -> None:
        self.workload = workload
        self.env = dict(env)
        self.cwd = cwd
        self.pid: int | None = None
        self.import_ms: float = 0.0
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._children: dict[int, asyncio.Future[int]] = {}
        self._pump: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.closed = asyncio.Event()

    @property
    def alive(self) -> bool:
        """True while the template runs and answers."""
        return self._process is not None and not self.closed.is_set()

    async def start(self, timeout: float = 120.0) -> None:
        """Start the template and wait until it is primed; InstanceError if it fails."""
        ours, theirs = socket.socketpair()
        env = {**base_environment(), **self.env, "BULUT_ZYGOTE_FD": str(theirs.fileno())}
        self._process = await asyncio.create_subprocess_exec(
            *self.workload.host_args("zygote"),
            pass_fds=[theirs.fileno()],
            env=env,
            cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()
        self._reader, self._writer = await asyncio.open_unix_connection(sock=ours)
        try:
            first = await asyncio.wait_for(self._read_event(), timeout)
        except (TimeoutError, InstanceError):
            await self.close()
            raise
        if first.get("event") != "ready":
            await self.close()
            raise InstanceError(f"zygote failed: {first.get('message', first)}")
        self.pid = int(first["pid"])
        self.import_ms = float(first.get("importMs", 0.0))
        self._pump = asyncio.get_running_loop().create_task(self._pump_events())

    async def _read_event(self) -> dict[str, Any]:
        assert self._reader is not None
        line = await self._reader.readline()
        if not line:
            raise InstanceError("zygote exited before it was ready")
        event: dict[str, Any] = json.loads(line)
        return event

    async def _pump_events(self) -> None:
        try:
            while True:
                event = await self._read_event()
                kind = event.get("event")
                if kind == "exit":
                    future = self._children.pop(int(event["pid"]), None)
                    if future is not None and not future.done():
                        future.set_result(int(event["code"]))
                else:
                    self._pending.put_nowait(event)
        except (InstanceError, OSError, ValueError):
            pass
        finally:
            self._lost()

    def _lost(self) -> None:
        """The template is gone: its children died with it (death signal)."""
        self.closed.set()
        for future in self._children.values():
            if not future.done():
                future.set_result(-9)
        self._children.clear()
        self._pending.put_nowait({"event": "lost"})

    async def fork(self, env: Mapping[str, str] | None = None) -> Child:
        """Fork one instance; it listens on its port by the time this returns."""
        if not self.alive or self._writer is None:
            raise InstanceError("zygote is not running")
        async with self._lock:
            command = {"cmd": "fork", "env": dict(env or {})}
            self._writer.write(json.dumps(command).encode() + b"\n")
            event = await self._pending.get()
        if event.get("event") != "forked":
            raise InstanceError("zygote died while forking")
        exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        child = Child(pid=int(event["pid"]), port=int(event["port"]), exited=exited)
        self._children[child.pid] = exited
        return child

    async def close(self) -> None:
        """Stop the template (its children get SIGTERM from it, then die with it)."""
        if self._writer is not None:
            self._writer.close()
        if self._process is not None and self._process.returncode is None:
            try:
                await asyncio.wait_for(self._process.wait(), 5.0)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        if self._pump is not None:
            await asyncio.gather(self._pump, return_exceptions=True)
        self.closed.set()


async def spawn(workload: Workload, env: Mapping[str, str], cwd: Path) -> Child:
    """Start one instance as a fresh process (no zygote): the slow path, kept for fallback."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    port = int(sock.getsockname()[1])
    full_env = {
        **base_environment(),
        **env,
        "BULUT_LISTEN_FD": str(sock.fileno()),
        "PORT": str(port),
        "LISTEN_ADDRESS": f"127.0.0.1:{port}",
    }
    try:
        process = await asyncio.create_subprocess_exec(
            *workload.host_args("serve"),
            pass_fds=[sock.fileno()],
            env=full_env,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
    finally:
        sock.close()
    exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def watch() -> None:
        exited.set_result(await process.wait())

    watcher = asyncio.get_running_loop().create_task(watch())
    return Child(pid=process.pid, port=port, exited=exited, watcher=watcher)


PRIVATE_PREFIXES = ("BULUT_", "VAULT_", "BAO_")
PRIVATE_NAMES = frozenset({"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"})


def base_environment() -> dict[str, str]:
    """The runtime's environment minus what belongs to the platform (its settings, its
    Vault token, its virtualenv): a container does not see its node's variables either."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in PRIVATE_NAMES and not name.startswith(PRIVATE_PREFIXES)
    }
