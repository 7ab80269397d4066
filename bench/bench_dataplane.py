"""Warm overhead of the data plane, beside calling the instance directly in the same run.

    .venv/bin/python bench/bench_dataplane.py [--seconds 4] [--python-client]

A trivial kn func http function (``tests/fixtures/functions/hello``) runs as one forked
instance. The load generator (wrk when installed, else a raw-asyncio keep-alive client
in a separate process) measures c=1 latency and c=64 throughput twice: straight to the
instance's port (baseline), and through the router (Host routing, activator/breaker
bookkeeping, autoscaler metrics, keep-alive upstream pool). Reported: added p50 latency,
requests/s, and requests per CPU-second of the data-plane process (target: <= 100 us p50
added, >= 30k requests/s per core).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FUNCTION = ROOT / "tests" / "fixtures" / "functions" / "hello"
HOST = "hello.default.localhost"


# -- load generator (runs in its own process) ------------------------------------------
async def _connection(
    port: int, request: bytes, until: float, latencies: list[float], record: bool
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    while time.perf_counter() < until:
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        marker = head.lower().find(b"content-length:")
        length = int(head[marker + 15 : head.find(b"\r\n", marker)]) if marker >= 0 else 0
        if length:
            await reader.readexactly(length)
        if record:
            latencies.append(time.perf_counter() - started)
    writer.close()


async def _load(port: int, connections: int, seconds: float) -> dict[str, Any]:
    request = f"GET / HTTP/1.1\r\nhost: {HOST}\r\n\r\n".encode()
    latencies: list[float] = []
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(
        *(_connection(port, request, until, latencies, True) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_us": latencies[len(latencies) // 2] * 1e6,
        "p99_us": latencies[int(len(latencies) * 0.99)] * 1e6,
        "requests": len(latencies),
    }


def client_main(port: int, connections: int, seconds: float) -> None:
    """``--client`` mode: run the load and print one JSON line."""
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        result = runner.run(_load(port, connections, seconds))
    print(json.dumps(result))


def _wrk_us(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1.0, "ms": 1e3, "s": 1e6}[unit]


def run_load(port: int, connections: int, seconds: float, use_wrk: bool) -> dict[str, Any]:
    """Run the load generator in another process against 127.0.0.1:port."""
    if use_wrk:
        command = ["wrk", "-t1", f"-c{connections}", f"-d{round(seconds)}s", "--latency"]
        command += ["-H", f"Host: {HOST}", f"http://127.0.0.1:{port}/"]
        text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
        p50 = _wrk_us(re.search(r"\s50%\s+([\d.]+\w+)", text).group(1))  # type: ignore[union-attr]
        p99 = _wrk_us(re.search(r"\s99%\s+([\d.]+\w+)", text).group(1))  # type: ignore[union-attr]
        return {"rps": rps, "p50_us": p50, "p99_us": p99, "requests": rps * seconds}
    command = [sys.executable, __file__, "--client", str(port), str(connections), str(seconds)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


# -- the data plane under test ------------------------------------------------------------
async def measure(seconds: float, use_wrk: bool) -> None:
    from bulut.functions.environments import ensure_environment
    from bulut.functions.project import load_project
    from bulut.serving.autoscaler import DeciderSpec
    from bulut.serving.front import Front
    from bulut.serving.revisions import RevisionRuntime, RevisionSpec
    from bulut.serving.router import Router
    from bulut.serving.traffic import Split
    from bulut.serving.zygote import Workload

    builds = ROOT / ".bulut" / "bench-builds"
    env = await asyncio.to_thread(ensure_environment, load_project(FUNCTION), builds)
    (builds / "cwd").mkdir(parents=True, exist_ok=True)
    workload = Workload(python=env.python, project=FUNCTION, flavour="http")
    spec = RevisionSpec("default", "hello-00001", workload, builds / "cwd", service="hello")
    runtime = RevisionRuntime(spec, DeciderSpec(min_scale=1, initial_scale=1), tick_interval=3600)
    router = Router({("default", "hello-00001"): runtime})
    router.table = {HOST: Split.of("default", "hello", [("hello-00001", 100)])}
    front = Front(router)
    await front.start()
    runtime.start()
    while not runtime.ready:
        await asyncio.sleep(0.01)
    instance_port = runtime.ready[0].port
    tool = "wrk" if use_wrk else "python asyncio client (separate process)"
    print(
        f"warm path, trivial kn func http function, load generator: {tool}, {os.cpu_count()} CPUs"
    )

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    async def run(label: str, port: int, connections: int) -> dict[str, Any]:
        await asyncio.to_thread(run_load, port, connections, 1.0, use_wrk)  # warm-up
        before = cpu()
        result = await asyncio.to_thread(run_load, port, connections, seconds, use_wrk)
        result["router_cpu_s"] = cpu() - before
        print(
            f"  {label:<30} c={connections:<3} {result['rps']:9.0f} req/s  "
            f"p50 {result['p50_us']:7.0f} us  p99 {result['p99_us']:7.0f} us"
        )
        return result

    try:
        direct1 = await run("direct to the instance", instance_port, 1)
        routed1 = await run("through the router", front.port, 1)
        direct64 = await run("direct to the instance", instance_port, 64)
        routed64 = await run("through the router", front.port, 64)
    finally:
        await runtime.aclose()
        await front.stop()
    added = routed1["p50_us"] - direct1["p50_us"]
    per_core = routed64["rps"] * seconds / max(routed64["router_cpu_s"], 1e-9)
    print(f"added p50 at c=1: {added:.0f} us (target <= 100 us)")
    print(
        f"throughput at c=64: router {routed64['rps']:.0f} req/s = "
        f"{routed64['rps'] / direct64['rps']:.2f}x direct; data plane process used "
        f"{routed64['router_cpu_s']:.1f} CPU-s for {seconds:.0f} s -> {per_core:.0f} req per "
        "CPU-second (target >= 30k per core)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--python-client", action="store_true", help="never use wrk")
    parser.add_argument("--client", nargs=3, metavar=("PORT", "CONNECTIONS", "SECONDS"))
    args = parser.parse_args()
    if args.client:
        client_main(int(args.client[0]), int(args.client[1]), float(args.client[2]))
        return
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    runner: Callable[[], asyncio.AbstractEventLoop] | None
    try:
        import uvloop

        runner = uvloop.new_event_loop
    except ImportError:
        runner = None
    with asyncio.Runner(loop_factory=runner) as loop:
        loop.run(measure(args.seconds, use_wrk))


if __name__ == "__main__":
    main()
