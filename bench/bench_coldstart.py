"""Cold start through the data plane, beside spawning the same function fresh.

    .venv/bin/python bench/bench_coldstart.py [--runs 100] [--baseline-runs 20]

Figures (all in one run, same machine):
  * pool (what Bulut does): revision at zero → first response through the router
    (activator holds the request, the autoscaler is poked, the runtime takes the zygote's
    parked child, the readiness probe passes, the request is forwarded); p50/p90/p99 over
    ``--runs``. "At zero" is the steady state of an idle revision: no instance, the
    zygote's pool full (each run waits for the refill, as a revision idle for the
    scale-to-zero grace period would have);
  * zygote fork without a pool (the previous path, pool size 0), same count;
  * baseline: the same kn func cloudevents function spawned fresh (``bulut.dev/zygote:
    "false"``: a new Python process importing uvicorn, func-python and the function), and
    func-python's own ``serve()`` (hypercorn, what ``kn func run`` starts) from launch to
    first 200;
  * 50 concurrent cold requests: errors and latency;
  * memory: the zygote's, its parked child's and one instance's RSS/PSS/USS
    (smaps_rollup).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bulut.functions.environments import Environment, ensure_environment
from bulut.functions.project import load_project
from bulut.serving.autoscaler import DeciderSpec
from bulut.serving.front import Front
from bulut.serving.launcher import POOL_SIZE
from bulut.serving.memory import memory_of
from bulut.serving.revisions import RevisionRuntime, RevisionSpec
from bulut.serving.router import Router
from bulut.serving.traffic import Split
from bulut.serving.zygote import Workload

ROOT = Path(__file__).resolve().parent.parent
FUNCTION = ROOT / "tests" / "fixtures" / "functions" / "echo"
HOST = "echo.default.localhost"
EVENT = (
    b"POST / HTTP/1.1\r\nhost: " + HOST.encode() + b"\r\nce-specversion: 1.0\r\n"
    b"ce-id: 1\r\nce-source: /bench\r\nce-type: bench\r\ncontent-type: application/json\r\n"
    b"content-length: 2\r\n\r\n{}"
)


async def exchange(port: int, request: bytes) -> int:
    """One request on a fresh connection; the status code."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    writer.close()
    return int(head.split(b" ", 2)[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def line(label: str, samples: list[float]) -> str:
    return (
        f"  {label:<44} p50 {percentile(samples, 0.5):7.1f} ms  p90 {percentile(samples, 0.9):7.1f}"
        f" ms  p99 {percentile(samples, 0.99):7.1f} ms  (n={len(samples)})"
    )


async def at_zero(runtime: RevisionRuntime) -> None:
    """No instance left, and the zygote's pool (if any) full again."""
    await runtime.scale_to(0)
    while runtime.instances:
        await asyncio.sleep(0.005)
    zygote = await runtime.launcher.zygote()
    while zygote is not None and zygote.alive and len(zygote.parked) < zygote.pool_size:
        await asyncio.sleep(0.005)


async def cold_starts(
    env: Environment, runs: int, how: str, tmp: Path, *, extras: bool = False
) -> tuple[list[float], Counter[str]]:
    """Time revision-at-zero → first response through the router, ``runs`` times.

    ``how``: ``pool`` (Bulut's default), ``fork`` (zygote without a pool) or ``spawn``.
    Also returns how each measured instance was made.
    """
    workload = Workload(python=env.python, project=FUNCTION, flavour="cloudevents")
    logs = tmp / "logs" / how
    shutil.rmtree(logs, ignore_errors=True)  # one file per instance: keep only this run's
    logs.mkdir(parents=True)
    spec = RevisionSpec(
        "default",
        "echo-00001",
        workload,
        tmp,
        service="echo",
        use_zygote=how != "spawn",
        env={"BULUT_LOG_DIR": str(logs)},  # as `bulut up` does: instance output to files
    )
    decider = DeciderSpec(initial_scale=0, min_scale=0)
    runtime = RevisionRuntime(spec, decider, tick_interval=3600.0)
    runtime.launcher.pool_size = POOL_SIZE if how == "pool" else 0
    router = Router({("default", "echo-00001"): runtime})
    router.table[HOST] = Split.of("default", "echo", [("echo-00001", 100)])
    front = Front(router)
    await front.start()
    runtime.start()
    samples: list[float] = []
    sources: Counter[str] = Counter()
    try:
        await runtime.launcher.zygote()
        await exchange(front.port, EVENT)  # warm the router's own first-call paths
        for _ in range(runs):
            await at_zero(runtime)
            started = time.perf_counter()
            status = await exchange(front.port, EVENT)
            samples.append((time.perf_counter() - started) * 1000)
            assert status == 200, status
            sources.update(i.child.source for i in runtime.instances)
        if extras:
            await report_memory(runtime)
            await concurrent_cold(runtime, front.port)
    finally:
        await runtime.aclose()
        await front.stop()
    return samples, sources


async def report_memory(runtime: RevisionRuntime) -> None:
    zygote = await runtime.launcher.zygote()
    if zygote is None or zygote.pid is None or not runtime.instances:
        return
    await at_zero(runtime)  # the pool refilled
    await exchange_until_ready(runtime)
    rows = [("zygote", memory_of(zygote.pid))]
    rows += [("parked child (pool)", memory_of(pid)) for pid in zygote.parked]
    rows += [("one instance (from the pool)", memory_of(runtime.instances[0].pid))]
    print("memory (smaps_rollup):")
    for label, memory in rows:
        print(
            f"  {label:<30} RSS {memory.rss / 2**20:6.1f} MiB  PSS {memory.pss / 2**20:6.1f} MiB"
            f"  USS {memory.uss / 2**20:6.1f} MiB"
        )


async def exchange_until_ready(runtime: RevisionRuntime) -> None:
    """One instance up and ready, its pool refilled (so the figures are of a steady state)."""
    await runtime.scale_to(1)
    while not runtime.ready:
        await asyncio.sleep(0.005)
    zygote = await runtime.launcher.zygote()
    while zygote is not None and len(zygote.parked) < zygote.pool_size:
        await asyncio.sleep(0.005)


async def concurrent_cold(runtime: RevisionRuntime, port: int, count: int = 50) -> None:
    await at_zero(runtime)

    async def one() -> tuple[int, float]:
        started = time.perf_counter()
        try:
            status = await exchange(port, EVENT)
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


def func_python_serve(env: Environment, runs: int) -> list[float]:
    """func-python's own serve() (hypercorn on LISTEN_ADDRESS): launch → first 200."""
    code = "from function import new; from func_python.cloudevent import serve; serve(new)"
    samples = []
    for _ in range(runs):
        port = free_port()
        environ = {**os.environ, "LISTEN_ADDRESS": f"127.0.0.1:{port}", "PORT": str(port)}
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(env.python), "-c", code],
            cwd=FUNCTION,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--baseline-runs", type=int, default=20)
    args = parser.parse_args()
    builds = ROOT / ".bulut" / "bench-builds"
    env = ensure_environment(load_project(FUNCTION), builds, progress=print)
    tmp = builds / "cwd"
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"cold start, kn func cloudevents function ({FUNCTION.name}), {os.cpu_count()} CPUs")
    pooled, pool_sources = asyncio.run(cold_starts(env, args.runs, "pool", tmp, extras=True))
    forked, _ = asyncio.run(cold_starts(env, args.runs, "fork", tmp))
    spawned, _ = asyncio.run(cold_starts(env, args.baseline_runs, "spawn", tmp))
    native = func_python_serve(env, args.baseline_runs)
    print("revision at zero -> first response through the router:")
    print(line("zygote pool (Bulut)", pooled))
    print(line("zygote fork, no pool (before the pool)", forked))
    print(line("baseline: fresh process, same server", spawned))
    print(line("baseline: func-python serve() (kn func run)", native))
    print(f"  instances of the pool runs by source: {dict(pool_sources)}")
    pool_p50 = statistics.median(pooled)
    print(
        f"ratio p50: fresh spawn / pool = {statistics.median(spawned) / pool_p50:.1f}x, "
        f"func-python serve / pool = {statistics.median(native) / pool_p50:.1f}x, "
        f"fork without pool / pool = {statistics.median(forked) / pool_p50:.2f}x "
        f"(targets: p50 <= 10 ms, p99 <= 25 ms)"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
