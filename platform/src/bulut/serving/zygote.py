"""Zygotes: one template process per revision, forked into instances on demand.

The template (``zygote_host.py``, run by the function's own Python) has imported the
server, the runtime library and the function module and has served one in-process
request; a cold start is then a ``fork()`` of it (SOCK's technique, "primed" the way
SnapStart is). The template also keeps a small pool of children forked ahead of need
(event loop running, port bound but not listening, serving nothing) that a cold start
takes instead of forking. This module is the runtime's side: it starts the template,
sends fork commands over a socketpair, turns the template's event lines into futures
and reads the pipe on which each instance says it listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import signal
import socket
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bulut.errors import InstanceError
from bulut.functions.environments import Environment
from bulut.functions.project import FunctionProject

if TYPE_CHECKING:
    from .seeds import Seed

HOST_PROGRAM = Path(__file__).with_name("zygote_host.py")

# How an instance was made (its cold-start source).
POOL = "pool"  # taken from the zygote's pool of pre-forked children
FORK = "fork"  # forked from the zygote on demand
SPAWN = "spawn"  # a fresh process

BACKLOG = 1024  # an instance's listen backlog until its server re-listens
GONE_KEPT = 64  # exits of pids not known yet, kept until their "forked" line is read
TAKEN_AFTER = 0.05  # seconds from taking a parked child to telling its zygote


def prime_modes(annotation: object) -> tuple[bool, bool]:
    """``(prime, reprime)`` for a revision's ``bulut.dev/prime`` annotation: ``"false"``
    never calls the function's prime(); ``"zygote"`` calls it in the zygote only; anything
    else (``"true"``, the default) in the zygote and again in each parked child (ADR 0016)."""
    mode = str(annotation).strip().lower()
    return mode != "false", mode not in ("false", "zygote")


@dataclass(frozen=True)
class Workload:
    """What to run for a revision: the function's Python, its folder and its flavour."""

    python: Path
    project: Path
    flavour: str = "cloudevents"  # cloudevents | http | functions-framework
    target: str = ""
    signature_type: str = "cloudevent"
    readiness_path: str = "/health/readiness"
    prime: bool = True  # call the function's prime() hook in the zygote (ADR 0013)
    reprime: bool = True  # and again in each parked child before it is parked (ADR 0016)

    @classmethod
    def of(
        cls,
        project: FunctionProject,
        environment: Environment,
        *,
        readiness_path: str,
        prime: bool = True,
        reprime: bool = True,
    ) -> Workload:
        """The workload of a function project built into ``environment``."""
        return cls(
            python=environment.python,
            project=project.path,
            flavour=project.flavour.value,
            target=project.target or "",
            signature_type=project.signature_type or "cloudevent",
            readiness_path=readiness_path,
            prime=prime,
            reprime=reprime,
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
            *([] if self.prime else ["--no-prime"]),
            *([] if self.reprime else ["--no-reprime"]),
        ]


@dataclass
class Child:
    """A process forked from a zygote (or spawned fresh): its pid, port and exit.

    ``listening`` resolves once the process says it listens (None: it cannot say), with
    True when the revision's readiness probe passed in the process too (ADR 0023).
    """

    pid: int
    port: int
    exited: asyncio.Future[int] = field(repr=False)
    watcher: asyncio.Task[None] | None = field(default=None, repr=False)
    source: str = FORK
    listening: asyncio.Future[bool] | None = field(default=None, repr=False)


class Notifications:
    """A pipe each instance writes a line to once it listens: its pid, and `` ready`` when
    the revision's readiness probe passed in the process (ADR 0023).

    The write end goes to the zygote (its children inherit it) or to a spawned process;
    pids announced before anyone asked are remembered until :meth:`forget`.
    """

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        self._loop = asyncio.get_running_loop()
        self._waiting: dict[int, asyncio.Future[bool]] = {}
        self._early: dict[int, bool] = {}
        self._buffer = b""
        self._open = True
        self._loop.add_reader(self.read_fd, self._readable)

    def handed_over(self) -> None:
        """The process holding the write end started: close the runtime's copy."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def future(self, pid: int) -> asyncio.Future[bool]:
        """Resolves once ``pid`` says it listens: True when it said it is ready too."""
        future: asyncio.Future[bool] = self._loop.create_future()
        if pid in self._early:
            future.set_result(self._early.pop(pid))
        else:
            self._waiting[pid] = future
        return future

    def forget(self, pid: int) -> None:
        """``pid`` is gone: drop what is kept for it."""
        self._early.pop(pid, None)
        future = self._waiting.pop(pid, None)
        if future is not None and not future.done():
            future.cancel()

    def _readable(self) -> None:
        try:
            chunk = os.read(self.read_fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:  # every writer is gone
            self.close()
            return
        *lines, self._buffer = (self._buffer + chunk).split(b"\n")
        for line in lines:
            number, _, word = line.partition(b" ")
            try:
                pid = int(number)
            except ValueError:
                continue
            ready = word == b"ready"
            future = self._waiting.pop(pid, None)
            if future is None:
                self._early[pid] = ready
            elif not future.done():
                future.set_result(ready)

    def close(self) -> None:
        """Stop reading; pending futures are cancelled."""
        if not self._open:
            return
        self._open = False
        self._loop.remove_reader(self.read_fd)
        os.close(self.read_fd)
        self.handed_over()
        for future in self._waiting.values():
            if not future.done():
                future.cancel()
        self._waiting.clear()
        self._early.clear()


@dataclass
class Parked:
    """A child the zygote forked ahead of need: its port's socket (bound, not listening)
    and the write end of its go pipe, both held by the runtime until it is taken."""

    pid: int
    port: int
    sock: socket.socket = field(repr=False)
    go: int = field(repr=False)

    def close(self) -> None:
        self.sock.close()
        with contextlib.suppress(OSError):
            os.close(self.go)


class Forked:
    """A zygote forked by a seed: not the runtime's child, so it is watched via a pidfd."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._exited = asyncio.get_running_loop().create_future()
        try:
            self._pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            self._pidfd = -1
            self._gone()
            return
        asyncio.get_running_loop().add_reader(self._pidfd, self._gone)

    def _gone(self) -> None:
        if self._pidfd >= 0:
            asyncio.get_running_loop().remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1
        if self.returncode is None:
            self.returncode = -1  # its exit status is the seed's to read
        if not self._exited.done():
            self._exited.set_result(self.returncode)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    async def wait(self) -> int:
        return int(await asyncio.shield(self._exited))


class Zygote:
    """The runtime's handle on one template process and its pool of parked children."""

    def __init__(
        self,
        workload: Workload,
        env: Mapping[str, str],
        cwd: Path,
        *,
        pool_size: int = 0,
        on_pool_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.workload = workload
        self.env = dict(env)
        self.cwd = cwd
        self.pool_size = pool_size
        self.pid: int | None = None
        self.import_ms: float = 0.0
        self.seeded = False  # forked from its environment's seed (ADR 0014)
        self.parked: dict[int, Parked] = {}  # oldest first
        self._on_pool_change = on_pool_change
        self._notifications: Notifications | None = None
        self._pool: socket.socket | None = None
        # Exits of pids not known yet, with their codes: a parked child that died before it
        # was handed over, or a forked one that exited before its "forked" line was read.
        self._gone: OrderedDict[int, int] = OrderedDict()
        self._process: asyncio.subprocess.Process | Forked | None = None
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

    async def start(self, timeout: float = 120.0, *, seed: Seed | None = None) -> None:
        """Start the template and wait until it is primed; InstanceError if it fails.

        With a ``seed`` of the workload's environment the template is forked from it (the
        interpreter and libraries are loaded already); else, or if the seed fails, it is a
        fresh process."""
        ours, theirs = socket.socketpair()
        pool_ours, pool_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        notifications = self._notifications = Notifications()
        env = {
            **base_environment(),
            **self.env,
            "BULUT_ZYGOTE_FD": str(theirs.fileno()),
            "BULUT_POOL_FD": str(pool_theirs.fileno()),
            "BULUT_NOTIFY_FD": str(notifications.write_fd),
        }
        args = [*self.workload.host_args("zygote"), "--pool", str(self.pool_size)]
        fds = [theirs.fileno(), pool_theirs.fileno(), notifications.write_fd]
        try:
            if seed is not None:
                with contextlib.suppress(InstanceError):  # gone: start fresh instead
                    self._process = Forked(await seed.fork(args[2:], env, self.cwd, fds))
                    self.seeded = True
            if self._process is None:
                self._process = await asyncio.create_subprocess_exec(
                    *args,
                    pass_fds=fds,
                    env=env,
                    cwd=self.cwd,
                    stdin=asyncio.subprocess.DEVNULL,
                    start_new_session=True,
                )
        except BaseException:
            ours.close()
            pool_ours.close()
            notifications.close()
            raise
        finally:
            theirs.close()
            pool_theirs.close()
            notifications.handed_over()
        self._pool = pool_ours
        pool_ours.setblocking(False)
        asyncio.get_running_loop().add_reader(pool_ours.fileno(), self._receive_parked)
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

    @property
    def process_pid(self) -> int | None:
        """The template process's pid from the moment it is spawned (``pid``: once primed)."""
        return self._process.pid if self._process is not None else None

    def _receive_parked(self) -> None:
        """A parked child handed over by the zygote: ``{"pid", "port"}`` + socket, go fd."""
        assert self._pool is not None
        try:
            message, fds, _, _ = socket.recv_fds(self._pool, 1024, 2)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            message, fds = b"", []
        if not message:  # the zygote is gone
            for fd in fds:
                os.close(fd)
            self._close_pool()
            return
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            return
        facts = json.loads(message)
        parked = Parked(int(facts["pid"]), int(facts["port"]), socket.socket(fileno=fds[0]), fds[1])
        if parked.pid in self._gone or self.closed.is_set():
            parked.close()
            return
        self.parked[parked.pid] = parked
        self._on_pool_change()

    def _close_pool(self) -> None:
        if self._pool is not None:
            asyncio.get_running_loop().remove_reader(self._pool.fileno())
            self._pool.close()
            self._pool = None
        parked, self.parked = self.parked, {}
        for child in parked.values():
            child.close()
        if parked:
            self._on_pool_change()

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
                if event.get("event") == "exit":
                    self._exited(int(event["pid"]), int(event["code"]))
                else:
                    self._pending.put_nowait(event)
        except (InstanceError, OSError, ValueError):
            pass
        finally:
            self._lost()

    def _exited(self, pid: int, code: int) -> None:
        if self._notifications is not None:
            self._notifications.forget(pid)
        future = self._children.pop(pid, None)
        if future is not None:
            if not future.done():
                future.set_result(code)
            return
        parked = self.parked.pop(pid, None)
        if parked is None:
            self._gone[pid] = code
            while len(self._gone) > GONE_KEPT:
                self._gone.popitem(last=False)
            return
        parked.close()
        self._on_pool_change()

    def _lost(self) -> None:
        """The template is gone: its children died with it (death signal)."""
        self.closed.set()
        for future in self._children.values():
            if not future.done():
                future.set_result(-9)
        self._children.clear()
        self._close_pool()
        if self._notifications is not None:
            self._notifications.close()
        self._pending.put_nowait({"event": "lost"})

    def _child(self, pid: int, port: int, source: str) -> Child:
        exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        code = self._gone.pop(pid, None)
        if code is not None:  # it exited before its "forked" line was read (a crash in start())
            exited.set_result(code)
            return Child(pid, port, exited, source=source, listening=None)
        listening = None if self._notifications is None else self._notifications.future(pid)
        self._children[pid] = exited
        return Child(pid, port, exited, source=source, listening=listening)

    def take(self, env: Mapping[str, str] | None = None) -> Child | None:
        """The oldest parked child, told to serve; None when the pool is empty."""
        go = json.dumps(dict(env)).encode() + b"\n" if env else b"{}\n"
        if self._writer is None or len(go) > select.PIPE_BUF:
            return None  # a longer line might not fit the pipe at once: fork instead
        while self.parked:
            parked = self.parked.pop(next(iter(self.parked)))
            try:
                parked.sock.listen(BACKLOG)  # from now on connections queue for it
                os.write(parked.go, go)
            except OSError:  # it died and its exit is on the way: try the next one
                continue
            finally:
                parked.close()
            child = self._child(parked.pid, parked.port, POOL)
            # The zygote hears of it once the cold start is over: woken now, it would take a
            # CPU from the child or from the runtime just when they need one (ADR 0023).
            asyncio.get_running_loop().call_later(TAKEN_AFTER, self._taken, parked.pid)
            return child
        return None

    def _taken(self, pid: int) -> None:
        """Tell the zygote its parked child ``pid`` was taken (it refills the pool later)."""
        if self._writer is not None and not self.closed.is_set():
            self._writer.write(json.dumps({"cmd": "taken", "pid": pid}).encode() + b"\n")

    async def fork(self, env: Mapping[str, str] | None = None) -> Child:
        """One instance, taken from the pool or forked now; its port accepts connections
        (they queue in the kernel until it serves) by the time this returns."""
        if not self.alive or self._writer is None:
            raise InstanceError("zygote is not running")
        child = self.take(env)
        if child is not None:
            return child
        async with self._lock:
            command = {"cmd": "fork", "env": dict(env or {})}
            self._writer.write(json.dumps(command).encode() + b"\n")
            event = await self._pending.get()
        if event.get("event") != "forked":
            raise InstanceError("zygote died while forking")
        return self._child(int(event["pid"]), int(event["port"]), FORK)

    async def close(self) -> None:
        """Stop the template (its children get SIGTERM from it, then die with it)."""
        self._close_pool()
        if self._writer is not None:
            self._writer.close()
        if self._process is not None and self._process.returncode is None:
            if self.pid is None:  # never primed (still importing, maybe paused): no children
                self._process.kill()
            try:
                await asyncio.wait_for(self._process.wait(), 5.0)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        if self._pump is not None:
            # EOF comes when every holder of the control socket is gone; never wait forever
            # on a straggling child that still holds it.
            done, _ = await asyncio.wait({self._pump}, timeout=5.0)
            if not done:
                self._pump.cancel()
                await asyncio.gather(self._pump, return_exceptions=True)
        if self._notifications is not None:
            self._notifications.close()
        self.closed.set()


async def spawn(workload: Workload, env: Mapping[str, str], cwd: Path) -> Child:
    """Start one instance as a fresh process (no zygote): the slow path, kept for fallback."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    port = int(sock.getsockname()[1])
    notifications = Notifications()
    full_env = {
        **base_environment(),
        **env,
        "BULUT_LISTEN_FD": str(sock.fileno()),
        "BULUT_NOTIFY_FD": str(notifications.write_fd),
        "PORT": str(port),
        "LISTEN_ADDRESS": f"127.0.0.1:{port}",
    }
    try:
        process = await asyncio.create_subprocess_exec(
            *workload.host_args("serve"),
            pass_fds=[sock.fileno(), notifications.write_fd],
            env=full_env,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
    except BaseException:
        notifications.close()
        raise
    finally:
        sock.close()
        notifications.handed_over()
    exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def watch() -> None:
        try:
            exited.set_result(await process.wait())
        finally:
            notifications.close()

    watcher = asyncio.get_running_loop().create_task(watch())
    listening = notifications.future(process.pid)
    return Child(process.pid, port, exited, watcher, source=SPAWN, listening=listening)


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
