"""Cold start through the data plane, with its phases, beside same-run baselines.

    .venv/bin/python bench/bench_coldstart.py [--runs 100] [--sample-runs 20]
    .venv/bin/python bench/bench_coldstart.py --function inventory [--function orders ...]
    .venv/bin/python bench/bench_coldstart.py --samples          # every sample function
    .venv/bin/python bench/bench_coldstart.py --samples --against /tmp/old/functions
                                    # beside older copies, in the same alternating rounds
    .venv/bin/python bench/bench_coldstart.py --function echo --platform-against /tmp/old
                                    # an older checkout's platform, rounds alternating

By default it measures the trivial echo function (tests/fixtures/functions/echo), then every
sample function as ``--samples`` does. The trivial one:
  * pool (what Bulut does): revision at zero → first response through the router
    (activator holds the request, the autoscaler is poked, the runtime takes the zygote's
    parked child, the readiness probe passes, the request is forwarded); p50/p90/p99 over
    ``--runs``. "At zero" is the steady state of an idle revision: no instance, the
    zygote's pool full (each run waits for the refill, as a revision idle for the
    scale-to-zero grace period would have);
  * zygote fork without a pool, same count;
  * baselines: the same function spawned fresh (a new Python process importing uvicorn,
    func-python and the function) and func-python's own ``serve()`` (hypercorn, what
    ``kn func run`` starts), from launch to first 200;
  * 50 concurrent cold requests: errors and latency; memory of the zygote, its parked child
    and one instance.

With ``--function NAME`` (a folder of functions/ or of tests/fixtures/functions/, or the path of
a function's folder, e.g. an older copy to compare with in alternating invocations) it measures
that function the same way (pool path), with each run's phases: ``take`` (request in → the
runtime has an instance: activator, autoscaler poke, the zygote's parked child), ``start``
(→ the instance listens: its ASGI lifespan, i.e. the function's ``start(cfg)``), ``probe``
(→ its readiness probe passed) and ``request`` (→ the response: forwarding and the first
request's own work); beside it, in the same run, the warm latency of the same request, the
same function primed in its zygote only (``bulut.dev/prime: "zygote"``: parked children not
rehearsed, ADR 0016), without its prime hook, and the trivial echo function's cold start
(the ratio is what a busy machine cannot blur). Then, in
one process of the function's own Python, where its time goes on the CPU
(``bench/function_phases.py``: import, prime, start, ready, first, warm), and the same steps
of a later instance, forked and rehearsed as the pool's children are, on the database the
first one left.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop

from bulut.functions.environments import Environment, ensure_environment
from bulut.functions.project import FunctionProject, load_project
from bulut.serving.autoscaler import DeciderSpec
from bulut.serving.front import Front
from bulut.serving.instances import Instance
from bulut.serving.launcher import POOL_SIZE
from bulut.serving.memory import memory_of
from bulut.serving.resources import readiness_path
from bulut.serving.revisions import RevisionRuntime, RevisionSpec
from bulut.serving.router import Router
from bulut.serving.traffic import Split
from bulut.serving.zygote import Child, Workload

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "functions"
SAMPLES = ("orders", "inventory", "payments", "audit", "notifications")
PHASES = ("take", "start", "probe", "request")
TARGETS = {"sample p50": 15.0, "sample p99": 40.0, "trivial p50": 3.0}  # ms, issue #17


def cloudevent(event_type: str, source: str, data: dict[str, Any]) -> dict[str, Any]:
    """A binary-mode CloudEvent request; ``{n}`` makes each one a new event."""
    headers = [
        ["ce-specversion", "1.0"],
        ["ce-id", "bench-{n}"],
        ["ce-source", source],
        ["ce-type", event_type],
        ["content-type", "application/json"],
    ]
    return {"method": "POST", "path": "/", "headers": headers, "body": json.dumps(data)}


# The first request of each function: what its triggers (or its users) send it.
REQUESTS: dict[str, dict[str, Any]] = {
    "echo": cloudevent("bench", "/bench", {}),
    "inventory": cloudevent(
        "com.example.order.created",
        "/orders",
        {"id": "o-{n}", "items": [{"sku": "WIDGET-1", "quantity": 1}]},
    ),
    "payments": cloudevent(
        "com.example.inventory.reserved",
        "/inventory",
        {"order_id": "o-{n}", "amount_cents": 1999, "currency": "EUR", "card_token": "tok_ok"},
    ),
    "audit": cloudevent("com.example.order.created", "/orders", {"id": "o-{n}"}),
    "notifications": cloudevent(
        "com.example.payment.authorized",
        "/payments",
        {"order_id": "o-{n}", "customer": "Ada", "amount_cents": 1999, "currency": "EUR"},
    ),
    "orders": {
        "method": "POST",
        "path": "/orders",
        "headers": [["content-type", "application/json"]],
        "body": json.dumps(
            {
                "customer": "ada",
                "email": "ada@example.com",
                "card_token": "tok_ok",
                "items": [{"sku": "WIDGET-1", "quantity": 1}],
            }
        ),
    },
}
# What `bulut up` would give them that they cannot start without (orders runs without
# K_SINK and Vault here: its events go nowhere, its e-mail is stored in clear).
ENVIRONMENT: dict[str, dict[str, str]] = {"payments": {"PAYMENTS_PROVIDER_KEY": "sk_bench"}}


def raw_request(name: str, host: str, n: int) -> bytes:
    """The function's first request as HTTP/1.1 bytes, numbered ``n``."""
    request = REQUESTS.get(name, REQUESTS["echo"])
    body: bytes = str(request["body"]).replace("{n}", str(n)).encode()
    lines = [f"{request['method']} {request['path']} HTTP/1.1", f"host: {host}"]
    lines += [f"{k}: {v.replace('{n}', str(n))}" for k, v in request["headers"]]
    lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def exchange(port: int, request: bytes) -> int:
    """One request on a fresh connection; the status code.

    The client shares the runtime's event loop and CPU, so it does as little as a client can:
    a blocking connect (on loopback the kernel completes it from the listener's backlog, with
    no name lookup, no wait and no loop iteration; the gateway accepts it when its loop
    next polls), one send, then non-blocking reads on the loop until the whole response is
    in. ``warmDirect`` measures what the client and the function cost without the data plane.
    """
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.connect(("127.0.0.1", port))
        sock.sendall(request)
        sock.setblocking(False)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = await loop.sock_recv(sock, 65536)
            if not chunk:
                raise ConnectionError(f"port {port} closed the connection before answering")
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(body) < length:
            chunk = await loop.sock_recv(sock, 65536)
            if not chunk:
                raise ConnectionError(f"port {port} closed the connection mid-answer")
            body += chunk
    return int(head.split(b" ", 2)[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(samples: list[float]) -> dict[str, float]:
    """p50/p90/p99 (ms) and the count."""
    return {
        "p50": round(percentile(samples, 0.5), 2),
        "p90": round(percentile(samples, 0.9), 2),
        "p99": round(percentile(samples, 0.99), 2),
        "n": len(samples),
    }


def line(label: str, samples: list[float]) -> str:
    return (
        f"  {label:<44} p50 {percentile(samples, 0.5):7.1f} ms  p90 {percentile(samples, 0.9):7.1f}"
        f" ms  p99 {percentile(samples, 0.99):7.1f} ms  (n={len(samples)})"
    )


@dataclass
class Subject:
    """A function under test: its project, environment, request and working folder."""

    name: str
    project: FunctionProject
    environment: Environment
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return f"{self.name}.bench.localhost"

    @property
    def readiness(self) -> str:
        return readiness_path({}, self.project.flavour.is_kn_func)

    def workload(self, *, prime: bool = True, reprime: bool = True) -> Workload:
        return Workload.of(
            self.project,
            self.environment,
            readiness_path=self.readiness,
            prime=prime,
            reprime=reprime,
        )


def function_folder(name: str) -> Path:
    """The folder of ``name``: functions/NAME, else tests/fixtures/functions/NAME, else
    ``name`` itself when it is a function's folder (an older copy of a sample function, to
    compare with in alternating runs); its last part names its request."""
    for folder in (ROOT / "functions" / name, FIXTURES / name, Path(name)):
        if folder.is_dir():
            return folder.resolve()
    raise SystemExit(f"--function {name}: no such function in functions/ or {FIXTURES}")


def working_folder(builds: Path, name: str, folder: Path) -> Path:
    """Where ``name``'s revisions run: one folder per function, and per copy of it."""
    label = name if folder.name == name else f"{folder.name}@{folder.parent.parent.name}"
    return builds / "cwd" / label


def revision_folder(cwd: Path, how: str, *, prime: bool = True, reprime: bool = True) -> Path:
    """A new, empty folder for one revision of a run (logs/ inside it).

    Its database persists between that revision's cold starts, as a revision's does, and
    starts new with each run: inventory's stock (100 widgets) would otherwise run out after
    a few runs, and every later "reservation" would be a rejection, another code path.
    """
    kind = ("" if reprime else "-zygote-only") if prime else "-unprimed"
    folder = cwd / f"{how}{kind}"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "logs").mkdir(parents=True)  # one file per instance
    return folder


def subject(name: str, builds: Path) -> Subject:
    """``name`` (see :func:`function_folder`), built (once) into ``builds``."""
    folder = function_folder(name)
    project = load_project(folder)
    environment = ensure_environment(project, builds, progress=print)
    cwd = working_folder(builds, name, folder)
    cwd.mkdir(parents=True, exist_ok=True)
    env = dict(ENVIRONMENT.get(folder.name, {}))
    return Subject(folder.name, project, environment, cwd, env)


def waits_in_epoll(pid: int) -> bool:
    """True when ``pid`` sleeps in epoll (a parked child waiting for its go line)."""
    try:
        with open(f"/proc/{pid}/wchan") as wchan:
            return wchan.read() in ("do_epoll_wait", "ep_poll")
    except OSError:
        return True  # gone, or not Linux: nothing to wait for


def cpu_ms(pid: int) -> float:
    """CPU time ``pid`` has run, in ms (/proc/<pid>/schedstat, ns; 0 when unreadable)."""
    try:
        with open(f"/proc/{pid}/schedstat") as stat:
            return int(stat.read().split()[0]) / 1e6
    except (OSError, ValueError, IndexError):
        return 0.0


@dataclass
class Phases:
    """Timestamps of one cold start (perf_counter seconds), and the CPU time the instance
    spent from being taken to its first response and the runtime's process (data plane
    and client) from the request to the response (what load stretches least)."""

    sent: float = 0.0
    taken: float = 0.0
    listening: float = 0.0
    ready: float = 0.0
    answered: float = 0.0
    pid: int = 0
    cpu_at_take: float = 0.0
    instance_cpu: float = 0.0
    runtime_cpu: float = 0.0

    def durations(self) -> dict[str, float]:
        marks = [self.sent, self.taken, self.listening, self.ready, self.answered]
        return {
            name: (later - earlier) * 1000
            for name, earlier, later in zip(PHASES, marks[:-1], marks[1:], strict=True)
        }


class Revision:
    """One function as a revision behind a router, with hooks that time its cold starts."""

    def __init__(
        self,
        function: Subject,
        how: str,
        *,
        prime: bool = True,
        reprime: bool = True,
        reports: int = 0,
    ) -> None:
        self.function = function
        self.how = how
        self.reports = reports
        self.changed = asyncio.Event()
        self.reporter: asyncio.Task[None] | None = None
        cwd = revision_folder(function.cwd, how, prime=prime, reprime=reprime)
        revision = f"{function.name}-0000{(1 if reprime else 3) if prime else 2}"
        spec = RevisionSpec(
            "bench",
            revision,
            function.workload(prime=prime, reprime=reprime),
            cwd,
            service=function.name,
            use_zygote=how != "spawn",
            env={**function.env, "BULUT_LOG_DIR": str(cwd / "logs")},  # as `bulut up` does
        )
        self.runtime = RevisionRuntime(
            spec,
            DeciderSpec(initial_scale=0, min_scale=0),
            tick_interval=3600.0,
            on_ready=self._ready,
            on_change=self.changed.set,
        )
        self.runtime.launcher.pool_size = POOL_SIZE if how == "pool" else 0
        router = Router({("bench", revision): self.runtime})
        router.table[function.host] = Split.of("bench", function.name, [(revision, 100)])
        self.front = Front(router)
        self.phases = Phases()
        launcher = self.runtime.launcher
        launch = launcher.launch
        take = getattr(launcher, "take", lambda: None)  # older code (--platform-against)

        async def timed_launch() -> tuple[Child, str]:
            child, source = await launch()
            self._taken(child)
            return child, source

        def timed_take() -> tuple[Child, str] | None:
            taken = take()
            if taken is not None:
                self._taken(taken[0])
            return taken

        launcher.launch = timed_launch  # type: ignore[method-assign]
        launcher.take = timed_take  # type: ignore[method-assign]
        self.counter = int(time.time() * 1000)
        self.parked_cpu: dict[int, float] = {}

    def _taken(self, child: Child) -> None:
        """The runtime has an instance (a parked child taken, or one forked or spawned)."""
        self.phases.taken = time.perf_counter()
        self.phases.pid = child.pid
        # A parked child's CPU does not move while it waits: read before, off the path.
        parked = self.parked_cpu.get(child.pid)
        self.phases.cpu_at_take = cpu_ms(child.pid) if parked is None else parked
        if child.listening is not None:
            child.listening.add_done_callback(self._listening)

    def _listening(self, _: object) -> None:
        self.phases.listening = time.perf_counter()

    def _ready(self, spec: RevisionSpec, instance: Instance) -> None:
        self.phases.ready = time.perf_counter()

    async def __aenter__(self) -> Revision:
        await self.front.start()
        self.runtime.start()
        await self.runtime.launcher.zygote()
        if self.reports:
            self.reporter = asyncio.ensure_future(self._report())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.reporter is not None:
            self.reporter.cancel()
        await self.runtime.aclose()
        await self.front.stop()

    async def _report(self) -> None:
        """What the data plane's reporter does under `bulut up` (``--reports N``): on every
        change of a revision, the runtime report of each of N revisions (the sample app has
        five), in the event loop the cold start runs on."""
        while True:
            await self.changed.wait()
            self.changed.clear()
            for _ in range(self.reports):
                self.runtime.runtime_report()

    def request(self) -> bytes:
        self.counter += 1
        return raw_request(self.function.name, self.function.host, self.counter)

    async def at_zero(self) -> None:
        """No instance left, and the zygote's pool (if any) full again; the autoscaler's
        tick that follows the last cold start's answer (ADR 0027) done first, or it would
        scale back to one."""
        while getattr(self.runtime, "poke_pending", False):  # older code has none
            await asyncio.sleep(0.002)
        await asyncio.sleep(0.005)  # the poked tick runs
        await self.runtime.scale_to(0)
        while self.runtime.instances:
            await asyncio.sleep(0.005)
        zygote = await self.runtime.launcher.zygote()
        while zygote is not None and zygote.alive and len(zygote.parked) < zygote.pool_size:
            await asyncio.sleep(0.005)
        if zygote is not None:
            for _ in range(200):  # handed over once warm; it then enters the server and waits
                if all(waits_in_epoll(pid) for pid in zygote.parked):
                    break
                await asyncio.sleep(0.005)
            self.parked_cpu = {pid: cpu_ms(pid) for pid in zygote.parked}

    async def cold(self) -> Phases:
        """One cold start; its phases."""
        await self.at_zero()
        request = self.request()
        cpu = time.process_time()
        self.phases = Phases(sent=time.perf_counter())
        status = await exchange(self.front.port, request)
        self.phases.answered = time.perf_counter()
        self.phases.runtime_cpu = (time.process_time() - cpu) * 1000
        if self.phases.pid:
            self.phases.instance_cpu = cpu_ms(self.phases.pid) - self.phases.cpu_at_take
        assert 200 <= status < 300, f"{self.function.name}: {status}"
        if not self.phases.listening:  # a spawned process says so too; a TCP probe may not
            self.phases.listening = self.phases.ready or self.phases.taken
        # Its word can come before the runtime waits for it: then it is ready at once.
        self.phases.listening = min(self.phases.listening, self.phases.ready or math.inf)
        return self.phases

    async def warm(self, *, direct: bool = False) -> float:
        """One request to a ready instance through the router, or ``direct`` to its port
        (the client's and the function's own cost, no data plane), in ms."""
        port = self.runtime.ready[0].port if direct else self.front.port
        started = time.perf_counter()
        status = await exchange(port, self.request())
        assert 200 <= status < 300, f"{self.function.name}: {status}"
        return (time.perf_counter() - started) * 1000


async def alternating(rounds: int, steps: list[Callable[[], Awaitable[None]]]) -> None:
    """Run each step once per round, in turn, so load changes hit every figure alike."""
    for _ in range(rounds):
        for step in steps:
            await step()


async def cold_starts(
    function: Subject, runs: int, how: str, *, extras: bool = False
) -> tuple[list[float], Counter[str]]:
    """``runs`` cold starts of ``function`` made ``how`` (pool, fork or spawn), in ms."""
    samples: list[float] = []
    sources: Counter[str] = Counter()
    async with Revision(function, how) as revision:
        await exchange(revision.front.port, revision.request())  # the router's first calls
        for _ in range(runs):
            phases = await revision.cold()
            samples.append((phases.answered - phases.sent) * 1000)
            sources.update(i.child.source for i in revision.runtime.instances)
        if extras:
            await report_memory(revision)
            await concurrent_cold(revision)
    return samples, sources


async def with_phases(
    function: Subject,
    trivial: Subject,
    runs: int,
    *,
    variants: bool = True,
    against: Subject | None = None,
    reports: int = 0,
) -> dict[str, Any]:
    """Cold starts of ``function`` with phases and its warm latency (through the router and
    straight to the instance), beside, in alternating rounds, the trivial function's cold
    start, (``variants``) the same function primed in the zygote only (not again in its
    parked children) and without its prime hook, and (``against``) another copy of it,
    e.g. the code before a change."""
    cold: list[Phases] = []
    warm: list[float] = []
    direct: list[float] = []
    unprimed: list[float] = []
    zygote_only: list[Phases] = []
    trivial_cold: list[float] = []
    trivial_cpu: list[float] = []
    other: list[Phases] = []
    async with contextlib.AsyncExitStack() as stack:
        tested = await stack.enter_async_context(Revision(function, "pool", reports=reports))
        steps: list[Callable[[], Awaitable[None]]] = []

        async def one_cold() -> None:
            phases = await tested.cold()
            cold.append(phases)
            warm.append(await tested.warm())  # the same instance, now warm
            direct.append(await tested.warm(direct=True))

        steps.append(one_cold)
        if variants:
            once = await stack.enter_async_context(Revision(function, "pool", reprime=False))
            plain = await stack.enter_async_context(Revision(function, "pool", prime=False))

            async def one_zygote_only() -> None:
                zygote_only.append(await once.cold())

            async def one_unprimed() -> None:
                phases = await plain.cold()
                unprimed.append((phases.answered - phases.sent) * 1000)

            steps += [one_zygote_only, one_unprimed]
        echo = tested
        if function.name != trivial.name:
            echo = await stack.enter_async_context(Revision(trivial, "pool"))

            async def one_trivial() -> None:
                phases = await echo.cold()
                trivial_cold.append((phases.answered - phases.sent) * 1000)
                trivial_cpu.append(phases.instance_cpu)

            steps.append(one_trivial)
        revisions = {tested, echo, *([once, plain] if variants else [])}
        if against is not None:
            copy = await stack.enter_async_context(Revision(against, "pool"))
            revisions.add(copy)

            async def one_against() -> None:
                other.append(await copy.cold())

            steps.append(one_against)
        for revision in revisions:
            await exchange(revision.front.port, revision.request())
        await alternating(runs, steps)
    total = [(p.answered - p.sent) * 1000 for p in cold]
    phases = {name: [p.durations()[name] for p in cold] for name in PHASES}
    figures = {
        "cold": summary(total),
        "phases": {name: summary(values) for name, values in phases.items()},
        "instanceCpuMs": summary([p.instance_cpu for p in cold]),
        "runtimeCpuMs": summary([p.runtime_cpu for p in cold]),
        "warm": summary(warm),
        "warmDirect": summary(direct),
        "trivialCold": summary(trivial_cold or total),
        "trivialInstanceCpuMs": summary(trivial_cpu or [p.instance_cpu for p in cold]),
    }
    if variants:
        figures["unprimedCold"] = summary(unprimed)
        figures["zygoteOnlyCold"] = summary([(p.answered - p.sent) * 1000 for p in zygote_only])
        figures["zygoteOnlyInstanceCpuMs"] = summary([p.instance_cpu for p in zygote_only])
    if other:
        figures["againstCold"] = summary([(p.answered - p.sent) * 1000 for p in other])
        figures["againstInstanceCpuMs"] = summary([p.instance_cpu for p in other])
        figures["againstRuntimeCpuMs"] = summary([p.runtime_cpu for p in other])
    return figures


async def report_memory(revision: Revision) -> None:
    runtime = revision.runtime
    zygote = await runtime.launcher.zygote()
    if zygote is None or zygote.pid is None or not runtime.instances:
        return
    await revision.at_zero()  # the pool refilled
    await runtime.scale_to(1)
    while not runtime.ready or len(zygote.parked) < zygote.pool_size:
        await asyncio.sleep(0.005)
    rows = [("zygote", memory_of(zygote.pid))]
    rows += [("parked child (pool)", memory_of(pid)) for pid in zygote.parked]
    rows += [("one instance (from the pool)", memory_of(runtime.instances[0].pid))]
    print("memory (smaps_rollup):")
    for label, memory in rows:
        print(
            f"  {label:<30} RSS {memory.rss / 2**20:6.1f} MiB  PSS {memory.pss / 2**20:6.1f} MiB"
            f"  USS {memory.uss / 2**20:6.1f} MiB"
        )


async def concurrent_cold(revision: Revision, count: int = 50) -> None:
    await revision.at_zero()

    async def one() -> tuple[int, float]:
        started = time.perf_counter()
        try:
            status = await exchange(revision.front.port, revision.request())
        except (OSError, asyncio.IncompleteReadError):
            status = 0
        return status, (time.perf_counter() - started) * 1000

    results = await asyncio.gather(*(one() for _ in range(count)))
    errors = sum(1 for status, _ in results if status != 200)
    print(f"{count} concurrent cold requests: {errors} errors")
    print(line("latency", [ms for _, ms in results]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def first_200(port: int, deadline: float) -> None:
    request = b"GET /health/readiness HTTP/1.1\r\nhost: x\r\n\r\n"
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(request)
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            time.sleep(0.0005)
    raise TimeoutError("no 200")


def func_python_serve(function: Subject, runs: int) -> list[float]:
    """func-python's own serve() (hypercorn on LISTEN_ADDRESS): launch → first 200."""
    code = "from function import new; from func_python.cloudevent import serve; serve(new)"
    samples = []
    for _ in range(runs):
        port = free_port()
        environ = {**os.environ, "LISTEN_ADDRESS": f"127.0.0.1:{port}", "PORT": str(port)}
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(function.environment.python), "-c", code],
            cwd=function.project.path,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            first_200(port, time.monotonic() + 30)
            samples.append((time.perf_counter() - started) * 1000)
        finally:
            process.kill()
            process.wait()
    return samples


def in_process_phases(function: Subject) -> dict[str, Any]:
    """``bench/function_phases.py`` run by the function's Python in a scratch folder."""
    project = function.project
    scratch = function.cwd / "phases"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    command = [
        str(function.environment.python),
        str(Path(__file__).with_name("function_phases.py")),
        "--project",
        str(project.path),
        "--flavour",
        project.flavour.value,
        "--target",
        project.target or "",
        "--signature-type",
        project.signature_type or "cloudevent",
        "--readiness",
        function.readiness,
        "--request",
        json.dumps(REQUESTS.get(function.name, REQUESTS["echo"])),
    ]
    environ = {**os.environ, **function.env}
    for name in ("VIRTUAL_ENV", "PYTHONPATH"):
        environ.pop(name, None)
    done = subprocess.run(command, cwd=scratch, env=environ, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"function_phases failed for {function.name}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def report_function(name: str, figures: dict[str, Any], inside: dict[str, Any]) -> None:
    cold, trivial, warm = figures["cold"], figures["trivialCold"], figures["warm"]
    print(f"{name}: revision at zero -> first response through the router (pool)")
    print(
        f"  cold   p50 {cold['p50']:7.1f} ms  p90 {cold['p90']:7.1f} ms  p99 {cold['p99']:7.1f} ms"
        f"  (n={cold['n']})"
    )
    for phase in PHASES:
        values = figures["phases"][phase]
        print(f"    {phase:<8} p50 {values['p50']:7.1f} ms  p99 {values['p99']:7.1f} ms")
    used = figures["instanceCpuMs"]
    print(
        f"  the instance's CPU from taken to first response: p50 {used['p50']:.1f} ms"
        f"  p99 {used['p99']:.1f} ms (start, probe and request; load does not stretch it);"
        f" echo's: p50 {figures['trivialInstanceCpuMs']['p50']:.1f} ms"
    )
    platform = figures["runtimeCpuMs"]
    print(
        f"  the runtime's CPU from request to response: p50 {platform['p50']:.1f} ms  p99"
        f" {platform['p99']:.1f} ms (gateway, activator, taking the child, and the client)"
    )
    direct = figures["warmDirect"]
    print(
        f"  warm   p50 {warm['p50']:7.1f} ms  p99 {warm['p99']:7.1f} ms  (same request; straight"
        f" to the instance, the client's and the function's own cost: p50 {direct['p50']:.2f} ms)"
        f" -> cold / warm p50 = {cold['p50'] / warm['p50']:.2f}x"
    )
    if "unprimedCold" in figures:
        plain = figures["unprimedCold"]
        print(
            f"  without its prime hook, same rounds: p50 {plain['p50']:.1f} ms  p99 "
            f"{plain['p99']:.1f} ms -> primed / unprimed p50 = {cold['p50'] / plain['p50']:.2f}x"
        )
        once, once_cpu = figures["zygoteOnlyCold"], figures["zygoteOnlyInstanceCpuMs"]
        print(
            f"  primed in the zygote only (not in its parked children), same rounds: p50 "
            f"{once['p50']:.1f} ms  p99 {once['p99']:.1f} ms, instance CPU p50 "
            f"{once_cpu['p50']:.1f} ms -> both / zygote only p50 = "
            f"{cold['p50'] / once['p50']:.2f}x"
        )
    if "againstCold" in figures:
        copy, copy_cpu = figures["againstCold"], figures["againstInstanceCpuMs"]
        print(
            f"  against {figures['against']}, same rounds: p50 {copy['p50']:.1f} ms  p99 "
            f"{copy['p99']:.1f} ms, instance CPU p50 {copy_cpu['p50']:.1f} ms -> this / that: "
            f"p50 {cold['p50'] / copy['p50']:.2f}x, p99 {cold['p99'] / copy['p99']:.2f}x, "
            f"instance CPU {used['p50'] / copy_cpu['p50']:.2f}x"
        )
    print(
        f"  trivial echo cold, same rounds: p50 {trivial['p50']:.1f} ms  p99 {trivial['p99']:.1f}"
        f" ms -> {name} / echo p50 = {cold['p50'] / trivial['p50']:.2f}x"
    )
    wall, cpu = inside["ms"], inside["cpuMs"]
    steps = ", ".join(f"{step} {wall[step]:.1f} ({cpu[step]:.1f} CPU)" for step in wall)
    print(f"  in one process, ms (CPU ms): {steps}; prime hook: {inside['primed']}")
    wall, cpu = inside["later"]["ms"], inside["later"]["cpuMs"]
    steps = ", ".join(f"{step} {wall[step]:.1f} ({cpu[step]:.1f} CPU)" for step in wall)
    print(f"  a later instance (forked, rehearsed, on the database the first left): {steps}")
    left = {step: len(modules) for step, modules in inside["imported"].items() if modules}
    if left:
        print(f"  modules still imported by an instance: {left}")


def measure_functions(
    names: list[str],
    runs: int,
    builds: Path,
    *,
    variants: bool = True,
    against: Path | None = None,
    reports: int = 0,
) -> dict[str, Any]:
    """``--function`` mode: each function beside the trivial one (and ``against``/NAME)."""
    trivial = subject("echo", builds)
    results: dict[str, Any] = {}
    for name in names:
        function = subject(name, builds)
        copy = None if against is None else subject(str(against / function.name), builds)
        measured = with_phases(
            function, trivial, runs, variants=variants, against=copy, reports=reports
        )
        figures = uvloop.run(measured)
        if copy is not None:
            figures["against"] = str(copy.project.path)
        inside = in_process_phases(function)
        report_function(name, figures, inside)
        results[name] = {
            **figures,
            "inProcess": {k: inside[k] for k in ("ms", "cpuMs")},
            "laterInstance": {k: inside["later"][k] for k in ("ms", "cpuMs")},
        }
    sample_p50 = [r["cold"]["p50"] for n, r in results.items() if n in SAMPLES]
    sample_p99 = [r["cold"]["p99"] for n, r in results.items() if n in SAMPLES]
    trivial_p50 = [r["trivialCold"]["p50"] for r in results.values()]
    if sample_p50:
        print(
            f"targets (idle machine): every sample p50 <= {TARGETS['sample p50']:.0f} ms "
            f"(worst {max(sample_p50):.1f}), p99 <= {TARGETS['sample p99']:.0f} ms "
            f"(worst {max(sample_p99):.1f}); trivial p50 <= {TARGETS['trivial p50']:.0f} ms "
            f"(median {statistics.median(trivial_p50):.1f}); load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
    return results


def measure_trivial(runs: int, baseline_runs: int, builds: Path) -> dict[str, Any]:
    """The default mode: the echo function by every path, beside fresh processes."""
    echo = subject("echo", builds)
    print(f"cold start, kn func cloudevents function (echo), {os.cpu_count()} CPUs")
    pooled, pool_sources = uvloop.run(cold_starts(echo, runs, "pool", extras=True))
    forked, _ = uvloop.run(cold_starts(echo, runs, "fork"))
    spawned, _ = uvloop.run(cold_starts(echo, baseline_runs, "spawn"))
    native = func_python_serve(echo, baseline_runs)
    print("revision at zero -> first response through the router:")
    print(line("zygote pool (Bulut)", pooled))
    print(line("zygote fork, no pool", forked))
    print(line("baseline: fresh process, same server", spawned))
    print(line("baseline: func-python serve() (kn func run)", native))
    print(f"  instances of the pool runs by source: {dict(pool_sources)}")
    pool_p50 = statistics.median(pooled)
    print(
        f"ratio p50: fresh spawn / pool = {statistics.median(spawned) / pool_p50:.1f}x, "
        f"func-python serve / pool = {statistics.median(native) / pool_p50:.1f}x, "
        f"fork without pool / pool = {statistics.median(forked) / pool_p50:.2f}x "
        f"(target: trivial p50 <= {TARGETS['trivial p50']:.0f} ms on an idle machine)"
    )
    return {
        "pool": summary(pooled),
        "fork": summary(forked),
        "spawn": summary(spawned),
        "funcPythonServe": summary(native),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=None, help="cold starts per figure")
    parser.add_argument("--baseline-runs", type=int, default=20)
    parser.add_argument("--function", action="append", default=[], metavar="NAME")
    parser.add_argument("--samples", action="store_true", help="every sample function")
    parser.add_argument(
        "--sample-runs", type=int, default=20, help="cold starts per sample function"
    )
    parser.add_argument(
        "--no-variants",
        action="store_true",
        help="--function: leave out the zygote-only and unprimed variants (quicker)",
    )
    parser.add_argument(
        "--against",
        type=Path,
        metavar="DIR",
        help="--function: also DIR/NAME in the same alternating rounds (e.g. the code before a "
        "change: mkdir /tmp/old; git archive main functions | tar -x -C /tmp/old; --against "
        "/tmp/old/functions)",
    )
    parser.add_argument(
        "--platform-against",
        type=Path,
        metavar="DIR",
        help="--function: the same measure of an older checkout's platform (DIR/platform/src: "
        "mkdir /tmp/old; git archive main platform | tar -x -C /tmp/old), this benchmark run "
        "for each side in its own process, the sides alternating for --rounds rounds",
    )
    parser.add_argument("--rounds", type=int, default=3, help="--platform-against: rounds")
    parser.add_argument(
        "--reports",
        type=int,
        default=0,
        metavar="N",
        help="--function: on each change of the revision, report N revisions as the data "
        "plane does under `bulut up` (5: the sample app)",
    )
    parser.add_argument("--json-out", type=Path, help=argparse.SUPPRESS)  # one side's figures
    parser.add_argument("--builds-dir", type=Path, default=ROOT / ".bulut" / "bench-builds")
    args = parser.parse_args(argv)
    builds = args.builds_dir.resolve()
    if args.platform_against is not None:
        return compare_platforms(args.platform_against, args.function or ["echo"], args)
    before = load_average()
    results: dict[str, Any] = {}
    names = [*args.function, *(SAMPLES if args.samples else ())]
    if not names:  # the default (what `make bench` runs): the trivial one, then the samples
        results["trivial"] = measure_trivial(args.runs or 100, args.baseline_runs, builds)
        names = list(SAMPLES)
    results["functions"] = measure_functions(
        names,
        args.runs or args.sample_runs,
        builds,
        variants=not args.no_variants,
        against=args.against,
        reports=args.reports,
    )
    sys.stdout.flush()
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(results))
    if os.environ.get("BULUT_BENCH_RUN"):  # under `make bench` (python -m bench.…)
        from bench.history import record

        record("coldstart", results, before)
    return results


SIDE_FIGURES = ("cold", "instanceCpuMs", "runtimeCpuMs")


def compare_platforms(old: Path, names: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """``--platform-against``: rounds of this benchmark on the older platform code and on
    this one, each in a process of its own (two versions of ``bulut`` cannot share one);
    per round and function, each side's figures and this side's ratio to the older one.

    The side that runs first alternates between rounds (old first in odd rounds, new first
    in even ones): whichever ran second tended to be slower (in 3 of 4 rounds with the
    same code on both sides, and in 5 of 6 of two versions run in both orders), so a fixed
    order would count that against the new code."""
    source = (old / "platform" / "src").resolve()
    if not (source / "bulut").is_dir():
        raise SystemExit(f"--platform-against {old}: no platform/src/bulut in it")
    rounds: list[dict[str, Any]] = []
    scratch = args.builds_dir.resolve() / "platform-against.json"
    for number in range(1, args.rounds + 1):
        row: dict[str, Any] = {}
        sides = [("old", str(source)), ("new", "")]
        for side, path in sides if number % 2 else sides[::-1]:
            command = [sys.executable, str(Path(__file__).resolve()), "--no-variants"]
            command += [arg for name in names for arg in ("--function", name)]
            command += ["--runs", str(args.runs or args.sample_runs), "--json-out", str(scratch)]
            command += ["--builds-dir", str(args.builds_dir.resolve())]
            command += ["--reports", str(args.reports)]
            environ = {**os.environ, "PYTHONPATH": path}
            environ.pop("BULUT_BENCH_RUN", None)
            load = os.getloadavg()[0]
            subprocess.run(command, env=environ, check=True, stdout=subprocess.DEVNULL)
            figures = json.loads(scratch.read_text())["functions"]
            row[side] = {
                name: {key: figures[name][key]["p50"] for key in SIDE_FIGURES} for name in names
            }
            row[side]["load"] = round(load, 2)
            row[side]["p99"] = {name: figures[name]["cold"]["p99"] for name in names}
        rounds.append(row)
        for name in names:
            was, now = row["old"][name], row["new"][name]
            print(
                f"round {number} {name}: cold p50 {was['cold']:.2f} -> {now['cold']:.2f} ms "
                f"({now['cold'] / was['cold']:.2f}x), p99 {row['old']['p99'][name]:.1f} -> "
                f"{row['new']['p99'][name]:.1f} ms, instance CPU {was['instanceCpuMs']:.2f} -> "
                f"{now['instanceCpuMs']:.2f} ms, runtime CPU {was['runtimeCpuMs']:.2f} -> "
                f"{now['runtimeCpuMs']:.2f} ms (load {row['old']['load']} / {row['new']['load']}; "
                f"{'old' if number % 2 else 'new'} first)"
            )
    scratch.unlink(missing_ok=True)
    for name in names:
        ratios = [r["new"][name]["cold"] / r["old"][name]["cold"] for r in rounds]
        print(
            f"{name}: new / old cold p50, median of {len(rounds)} rounds = "
            f"{statistics.median(ratios):.2f}x (rounds: {', '.join(f'{x:.2f}' for x in ratios)})"
        )
    return {"platformAgainst": str(old), "rounds": rounds}


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


if __name__ == "__main__":
    main()
