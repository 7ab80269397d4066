"""Warm overhead of the data plane, beside calling the instance directly in the same run.

    .venv/bin/python bench/bench_dataplane.py [--seconds 4] [--rounds 3] [--python-client]
                                              [--observability]

A trivial kn func http function (``tests/fixtures/functions/hello``) runs as one forked
instance. The load generator (wrk when installed, else a raw-asyncio keep-alive client
in a separate process) measures c=1 latency and c=64 throughput straight to the instance's
port (baseline) and through the router (Host routing, activator/breaker bookkeeping,
autoscaler metrics, keep-alive upstream pool), alternating, ``--rounds`` times. Each round's
ratio is taken against the direct baseline of the same round and the medians are reported,
so load from other processes on a shared machine moves a round, not the figure: the router's
throughput as a ratio to direct at c=64 (target >= 0.75x), its added p50 at c=1 (target
<= 50 us), every latency beside the direct one, and requests per CPU-second of the
data-plane process.

``--observability`` adds a third leg to every round: the same router with tracing (spans
stored in SQLite under a temporary state dir, flushed every 0.5 s) and metrics on, as
`bulut up` runs it (``Telemetry.create`` with its trace budget: at most 100 new traces a
second), reported as its own ratio to direct.

``--floor`` adds a leg through HAProxy in ``mode tcp`` (one thread, Debian's ``haproxy``):
a relay in C that only copies bytes between the client's connection and one to the
instance, no HTTP work at all. What it adds is the floor any proxy pays on this machine
(the second hop's system calls and wake-ups); it is reported beside the router's figures
with its own CPU per request (ADR 0026).

``--haproxy`` adds a leg through Bulut's own HAProxy ingress (``bulut.serving.kingress``, ADR
0015) as ``bulut up --ingress haproxy`` runs it: its configuration and controller on a listener
of their own in front of the same gateway (the activator), the instance in a slot through the
runtime API, the access log read back into spans and metrics and ``show stat`` polled for the
autoscaler, with tracing and metrics on under ``bulut up``'s trace budget (100 new traces a
second). Its CPU per request is HAProxy's plus what this process (the platform) spends
meanwhile, reported apart (ADR 0030).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulut.serving.front import Front
from bulut.serving.router import Router

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
@dataclass
class HelloPlane:
    """The trivial function on one forked instance, behind a router and its gateway."""

    router: Router
    front: Front
    instance_port: int


@contextlib.asynccontextmanager
async def hello_plane() -> AsyncIterator[HelloPlane]:
    """Start the instance and the gateway (Host ``hello.default.localhost``); stop both."""
    from bulut.functions.environments import ensure_environment
    from bulut.functions.project import load_project
    from bulut.serving.autoscaler import DeciderSpec
    from bulut.serving.revisions import RevisionRuntime, RevisionSpec
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
    try:
        runtime.start()
        while not runtime.ready:
            await asyncio.sleep(0.01)
        yield HelloPlane(router, front, runtime.ready[0].port)
    finally:
        await runtime.aclose()
        await front.stop()


FLOOR_CONFIG = """\
global
    nbthread 1
    maxconn 4096
defaults
    mode tcp
    timeout connect 5s
    timeout client 300s
    timeout server 300s
frontend floor
    bind 127.0.0.1:{port}
    default_backend instance
backend instance
    server instance 127.0.0.1:{instance}
"""


@contextlib.contextmanager
def tcp_relay(instance_port: int) -> Iterator[tuple[int, int]]:
    """HAProxy copying bytes to the instance (``mode tcp``): its (port, pid) while running."""
    from bench.bench_broker import free_port, wait_listening

    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "floor.cfg"
        port = free_port()
        config.write_text(FLOOR_CONFIG.format(port=port, instance=instance_port))
        process = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=subprocess.DEVNULL)
        try:
            wait_listening(port)
            yield port, process.pid
        finally:
            process.terminate()
            process.wait(timeout=10)


BULUT_UP_TRACES_PER_SECOND = 100.0  # Settings.traces_per_second's default


@contextlib.asynccontextmanager
async def bulut_haproxy(plane: HelloPlane) -> AsyncIterator[tuple[int, Callable[[], float]]]:
    """Bulut's HAProxy ingress in front of the plane's gateway, as `bulut up --ingress
    haproxy` starts it: its (port, CPU seconds of the running HAProxy) once the instance has
    its slot and the host its map entries."""
    import socket

    from bench.bench_broker import cpu_seconds
    from bulut.serving.kingress.controller import HAProxyIngress

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    listener.set_inheritable(True)
    with tempfile.TemporaryDirectory() as folder:
        ingress = HAProxyIngress(
            plane.router,
            listener,
            f"127.0.0.1:{plane.front.port}",
            Path(folder) / "haproxy",
            traces_per_second=BULUT_UP_TRACES_PER_SECOND,
        )
        await ingress.start()
        try:
            while not ingress.plan.routes.get(f"{HOST}/0"):
                await asyncio.sleep(0.01)

            def haproxy_cpu() -> float:
                process = ingress.process.process
                return cpu_seconds(process.pid) if process is not None else 0.0

            yield listener.getsockname()[1], haproxy_cpu
        finally:
            await ingress.stop()
            listener.close()


def process_cpu() -> float:
    """CPU seconds of this process (the data plane's loop runs here)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(
    seconds: float,
    use_wrk: bool,
    rounds_count: int,
    observability: bool = False,
    floor: bool = False,
    haproxy: bool = False,
) -> dict[str, Any]:
    async with contextlib.AsyncExitStack() as stack:
        plane = await stack.enter_async_context(hello_plane())
        relay = stack.enter_context(tcp_relay(plane.instance_port)) if floor else None
        ingress = await stack.enter_async_context(bulut_haproxy(plane)) if haproxy else None
        return await measure_plane(
            plane, seconds, use_wrk, rounds_count, observability, relay, ingress
        )
    raise AssertionError("unreachable")  # mypy: the stack does not swallow exceptions


async def measure_plane(
    plane: HelloPlane,
    seconds: float,
    use_wrk: bool,
    rounds_count: int,
    observability: bool,
    relay: tuple[int, int] | None = None,
    ingress: tuple[int, Callable[[], float]] | None = None,
) -> dict[str, Any]:
    from bulut.observability.telemetry import Telemetry
    from bulut.observability.tracer import Tracer

    router, front, instance_port = plane.router, plane.front, plane.instance_port
    state = tempfile.TemporaryDirectory()
    # What `bulut up` records with: tracing and metrics on, at most 100 new traces a second.
    telemetry = Telemetry.create(
        Path(state.name), traces_per_second=BULUT_UP_TRACES_PER_SECOND, environ={}
    )
    telemetry.start()

    def observed(on: bool) -> None:
        router.tracer = telemetry.tracer if on else Tracer.disabled()
        router.metrics = telemetry.metrics if on else None

    tool = "wrk" if use_wrk else "python asyncio client (separate process)"
    print(
        f"warm path, trivial kn func http function, load generator: {tool}, {os.cpu_count()} CPUs"
    )

    async def run(
        label: str, port: int, connections: int, cpu: Callable[[], float] = process_cpu
    ) -> dict[str, Any]:
        before = cpu()
        result = await asyncio.to_thread(run_load, port, connections, seconds, use_wrk)
        result["router_cpu_s"] = cpu() - before
        print(
            f"  {label:<30} c={connections:<3} {result['rps']:9.0f} req/s  "
            f"p50 {result['p50_us']:7.0f} us  p99 {result['p99_us']:7.0f} us"
        )
        return result

    def relay_cpu() -> float:
        from bench.bench_broker import cpu_seconds

        return cpu_seconds(relay[1]) if relay is not None else 0.0

    rounds: list[dict[str, dict[str, Any]]] = []
    try:
        legs = [instance_port, front.port]
        legs += [relay[0]] if relay is not None else []
        legs += [ingress[0]] if ingress is not None else []
        for port in legs:  # warm-up
            await asyncio.to_thread(run_load, port, 64, 1.0, use_wrk)
        for number in range(1, rounds_count + 1):
            print(f"round {number}/{rounds_count} (direct and routed alternate):")
            figures: dict[str, dict[str, Any]] = {}
            for connections in (1, 64):
                figures[f"direct{connections}"] = await run(
                    "direct to the instance", instance_port, connections
                )
                figures[f"routed{connections}"] = await run(
                    "through the router", front.port, connections
                )
                if observability:
                    observed(True)
                    figures[f"observed{connections}"] = await run(
                        "router, tracing + metrics on", front.port, connections
                    )
                    observed(False)
                if relay is not None:
                    figures[f"floor{connections}"] = await run(
                        "HAProxy mode tcp (C relay)", relay[0], connections, relay_cpu
                    )
                if ingress is not None:
                    observed(True)
                    haproxy_cpu = ingress[1]
                    platform_before = process_cpu()
                    leg = await run("Bulut's HAProxy ingress", ingress[0], connections, haproxy_cpu)
                    leg["platform_cpu_s"] = process_cpu() - platform_before
                    figures[f"haproxy{connections}"] = leg
                    observed(False)
            rounds.append(figures)
    finally:
        await telemetry.aclose()
        state.cleanup()
    return summarise(rounds, seconds)


def median(values: list[float]) -> float:
    return statistics.median(values)


def summarise(rounds: list[dict[str, dict[str, Any]]], seconds: float) -> dict[str, Any]:
    """Each round's ratios to its own direct baseline, and their medians; printed too."""
    added = [r["routed1"]["p50_us"] - r["direct1"]["p50_us"] for r in rounds]
    ratio = [r["routed64"]["rps"] / r["direct64"]["rps"] for r in rounds]
    per_cpu = [
        r["routed64"]["rps"] * seconds / max(r["routed64"]["router_cpu_s"], 1e-9) for r in rounds
    ]
    figures = {
        name: {
            key: round(median([r[name][key] for r in rounds]), 1)
            for key in ("rps", "p50_us", "p99_us")
        }
        for name in ("direct1", "routed1", "direct64", "routed64")
    }
    d1, r1, d64, r64 = (figures[n] for n in ("direct1", "routed1", "direct64", "routed64"))
    result = {
        **figures,
        "added_p50_us": round(median(added), 1),
        "ratio_c64": round(median(ratio), 3),
        "routed_per_cpu_s": round(median(per_cpu)),
        "rounds": len(rounds),
    }
    print(f"medians of {len(rounds)} rounds, each against the direct baseline of its round:")
    print(
        f"  c=1:  p50 {r1['p50_us']:.0f} us through the router beside {d1['p50_us']:.0f} us"
        f" direct -> added p50 {result['added_p50_us']:.0f} us (target <= 50 us);"
        f" p99 {r1['p99_us']:.0f} us beside {d1['p99_us']:.0f} us"
    )
    print(
        f"  c=64: {r64['rps']:.0f} req/s through the router beside {d64['rps']:.0f} direct"
        f" -> {result['ratio_c64']:.2f}x direct (target >= 0.75x); p50 {r64['p50_us']:.0f} us"
        f" beside {d64['p50_us']:.0f} us, p99 {r64['p99_us']:.0f} us beside"
        f" {d64['p99_us']:.0f} us; {result['routed_per_cpu_s']:.0f} requests per CPU-second"
        " of the data-plane process"
    )
    print(
        f"  rounds: added p50 {', '.join(f'{a:.0f}' for a in added)} us; ratio c=64 "
        f"{', '.join(f'{x:.2f}' for x in ratio)}; load average {os.getloadavg()[0]:.1f}"
    )

    def cpu_us_per_request(leg: str, key: str = "router_cpu_s") -> list[float]:
        """Each round's CPU per request at c=64 of the process carrying ``leg`` (``key``: or
        another process's), in µs."""
        return [r[leg][key] / max(r[leg]["rps"] * seconds, 1) * 1e6 for r in rounds]

    def leg_figures(leg: str) -> tuple[list[float], list[float]]:
        """Each round's added p50 at c=1 and ratio at c=64 of ``leg``; their medians and its
        CPU per request go into the result as ``<leg>_…``."""
        added = [r[f"{leg}1"]["p50_us"] - r["direct1"]["p50_us"] for r in rounds]
        ratio = [r[f"{leg}64"]["rps"] / r["direct64"]["rps"] for r in rounds]
        result[f"{leg}_added_p50_us"] = round(median(added), 1)
        result[f"{leg}_ratio_c64"] = round(median(ratio), 3)
        result[f"{leg}_cpu_us_per_request"] = round(median(cpu_us_per_request(f"{leg}64")), 1)
        return added, ratio

    result["routed_cpu_us_per_request"] = round(median(cpu_us_per_request("routed64")), 1)
    if "floor64" in rounds[0]:
        floor_added, floor_ratio = leg_figures("floor")
        print(
            f"  floor, HAProxy mode tcp (a C relay, no HTTP): added p50"
            f" {result['floor_added_p50_us']:.0f} us, {result['floor_ratio_c64']:.2f}x direct"
            f" at c=64, {result['floor_cpu_us_per_request']:.0f} us of CPU per request beside"
            f" the router's {result['routed_cpu_us_per_request']:.0f} us; rounds added"
            f" {', '.join(f'{a:.0f}' for a in floor_added)} us, ratio"
            f" {', '.join(f'{x:.2f}' for x in floor_ratio)}"
        )
    if "haproxy64" in rounds[0]:
        ingress_added, ingress_ratio = leg_figures("haproxy")
        platform_cpu = cpu_us_per_request("haproxy64", "platform_cpu_s")
        result["haproxy_platform_cpu_us_per_request"] = round(median(platform_cpu), 1)
        print(
            f"  Bulut's HAProxy ingress (--ingress haproxy, as `bulut up`): added p50"
            f" {result['haproxy_added_p50_us']:.0f} us (target <= 50 us),"
            f" {result['haproxy_ratio_c64']:.2f}x direct at c=64 (target >= 0.75x); CPU per"
            f" request {result['haproxy_cpu_us_per_request']:.0f} us HAProxy +"
            f" {result['haproxy_platform_cpu_us_per_request']:.0f} us the platform (access log,"
            f" show stat, spans); rounds added {', '.join(f'{a:.0f}' for a in ingress_added)}"
            f" us, ratio {', '.join(f'{x:.2f}' for x in ingress_ratio)}"
        )
    if "observed64" in rounds[0]:
        observed = [r["observed64"]["rps"] / r["direct64"]["rps"] for r in rounds]
        observed_added = [r["observed1"]["p50_us"] - r["direct1"]["p50_us"] for r in rounds]
        observed_cpu = [
            r["observed64"]["rps"] * seconds / max(r["observed64"]["router_cpu_s"], 1e-9)
            for r in rounds
        ]
        result["observed_ratio_c64"] = round(median(observed), 3)
        result["observed_added_p50_us"] = round(median(observed_added), 1)
        result["observed_per_cpu_s"] = round(median(observed_cpu))
        print(
            f"  tracing + metrics on (as `bulut up`): {result['observed_ratio_c64']:.2f}x direct"
            f" at c=64 (beside {result['ratio_c64']:.2f}x with them off), added p50"
            f" {result['observed_added_p50_us']:.0f} us, {result['observed_per_cpu_s']:.0f}"
            " requests per CPU-second; rounds "
            f"{', '.join(f'{x:.2f}' for x in observed)}"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3, help="alternating direct/routed rounds")
    parser.add_argument("--python-client", action="store_true", help="never use wrk")
    parser.add_argument(
        "--observability", action="store_true", help="also route with tracing and metrics on"
    )
    parser.add_argument(
        "--floor", action="store_true", help="also through HAProxy mode tcp (needs haproxy)"
    )
    parser.add_argument(
        "--haproxy",
        action="store_true",
        help="also through Bulut's HAProxy ingress as `bulut up --ingress haproxy` runs it",
    )
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
    before = [round(value, 2) for value in os.getloadavg()]
    with asyncio.Runner(loop_factory=runner) as loop:
        from bulut.serving.kingress.haproxy import executable

        installed = executable() is not None
        floor, haproxy = args.floor and installed, args.haproxy and installed
        if (args.floor or args.haproxy) and not installed:
            print("no HAProxy legs: haproxy is not installed (apt-get install haproxy)")
        figures = loop.run(
            measure(args.seconds, use_wrk, args.rounds, args.observability, floor, haproxy)
        )
    if os.environ.get("BULUT_BENCH_RUN"):  # under `make bench` (python -m bench.…)
        from bench.history import record

        record("dataplane", {**figures, "loadGenerator": "wrk" if use_wrk else "python"}, before)


if __name__ == "__main__":
    main()
