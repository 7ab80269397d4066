"""Cold start through the data plane, beside spawning the same function fresh.

    .venv/bin/python bench/bench_coldstart.py [--runs 100] [--concurrent 50]

Figures (all in one run, same machine):
  * zygote fork: revision at zero → first response through the router (activator holds the
    request, the autoscaler is poked, the zygote forks, the readiness probe passes, the
    request is forwarded); p50/p90/p99 over ``--runs``;
  * baseline: the same kn func cloudevents function spawned fresh (``bulut.dev/zygote:
    "false"``: a new Python process importing uvicorn, func-python and the function), and
    func-python's own ``serve()`` (hypercorn, what ``kn func run`` starts) from launch to
    first 200;
  * 50 concurrent cold requests: errors and latency;
  * memory: the zygote's and one forked instance's RSS/PSS/USS (smaps_rollup).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bulut.functions.environments import Environment, ensure_environment
from bulut.functions.project import load_project
from bulut.serving.autoscaler import DeciderSpec
from bulut.serving.front import Front
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
    await runtime.scale_to(0)
    while runtime.instances:
        await asyncio.sleep(0.005)


async def cold_starts(env: Environment, runs: int, zygote: bool, tmp: Path) -> list[float]:
    """Time revision-at-zero → first response through the router, ``runs`` times."""
    workload = Workload(python=env.python, project=FUNCTION, flavour="cloudevents")
    spec = RevisionSpec("default", "echo-00001", workload, tmp, service="echo", use_zygote=zygote)
    decider = DeciderSpec(initial_scale=0, min_scale=0)
    runtime = RevisionRuntime(spec, decider, tick_interval=3600.0)
    router = Router({("default", "echo-00001"): runtime})
    router.table[HOST] = Split.of("default", "echo", [("echo-00001", 100)])
    front = Front(router)
    await front.start()
    runtime.start()
    samples: list[float] = []
    try:
        await runtime.launcher.zygote()
        await exchange(front.port, EVENT)  # warm the router's own first-call paths
        for _ in range(runs):
            await at_zero(runtime)
            started = time.perf_counter()
            status = await exchange(front.port, EVENT)
            samples.append((time.perf_counter() - started) * 1000)
            assert status == 200, status
        if zygote:
            await report_memory(runtime)
            await concurrent_cold(runtime, front.port)
    finally:
        await runtime.aclose()
        await front.stop()
    return samples


async def report_memory(runtime: RevisionRuntime) -> None:
    zygote = await runtime.launcher.zygote()
    if zygote is None or zygote.pid is None or not runtime.instances:
        return
    template = memory_of(zygote.pid)
    child = memory_of(runtime.instances[0].pid)
    print("memory (smaps_rollup):")
    for label, memory in (("zygote", template), ("one forked instance", child)):
        print(
            f"  {label:<22} RSS {memory.rss / 2**20:6.1f} MiB  PSS {memory.pss / 2**20:6.1f} MiB"
            f"  USS {memory.uss / 2**20:6.1f} MiB"
        )


async def concurrent_cold(runtime: RevisionRuntime, port: int, count: int = 50) -> None:
    await at_zero(runtime)

    async def one() -> tuple[int, float]:
        started = time.perf_counter()
        try:
            status = await exchange(port, EVENT)
        except OSError:
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
    forked = asyncio.run(cold_starts(env, args.runs, True, tmp))
    spawned = asyncio.run(cold_starts(env, args.baseline_runs, False, tmp))
    native = func_python_serve(env, args.baseline_runs)
    print("revision at zero -> first response through the router:")
    print(line("zygote fork (Bulut)", forked))
    print(line("baseline: fresh process, same server", spawned))
    print(line("baseline: func-python serve() (kn func run)", native))
    fork_p50 = statistics.median(forked)
    print(
        f"ratio p50: fresh spawn / fork = {statistics.median(spawned) / fork_p50:.1f}x, "
        f"func-python serve / fork = {statistics.median(native) / fork_p50:.1f}x "
        f"(targets: p50 <= 10 ms, p99 <= 25 ms)"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
