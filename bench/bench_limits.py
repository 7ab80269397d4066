"""Benchmark: what the data plane's request limits cost, limits on against off in one run.

The limits (issue #20 item 6; ``bulut.httpd.server`` and ``bulut.eventing.ingress``): URL
length, header block size and field count counted as the request arrives, the body limit
decided from Content-Length before any of it is read, and the broker's per-event size with
its ``ce-`` attributes, batch size and count. ``BULUT_REQUEST_LIMITS=false`` lifts them all.

Two eventing data planes (``python -m bulut.eventing.standalone``: the broker ingress on the
same ``bulut.httpd`` server the gateway is) run side by side, one with limits on and one off,
each with a broker and no trigger (durable ingest: fsync'd before the 202). A keep-alive load
generator in this process POSTs binary events to them in alternating rounds (on, off, on,
off, ...), so a burst of load from another process moves one round and not the figure; each
round's ratio is taken against the other variant's adjacent round. Printed: events/s and p50 /
p99 latency per variant (medians of the rounds) and the median ratio on / off.

The warm path is measured the same way: the trivial function on one forked instance behind
two gateways on one router (``bench_dataplane``'s plane), one with limits on and one off, with
the load generator in another process (wrk when installed) in alternating rounds at c=64.

Run: ``.venv/bin/python -m bench.bench_limits`` (about two minutes; ``--skip-warm-path`` for
the broker alone). Everything stays on 127.0.0.1; every loop is bounded in count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

from bench.bench_broker import free_port, wait_listening
from bulut.httpd import Client

HEADERS = [
    (b"ce-specversion", b"1.0"),
    (b"ce-source", b"/bench/limits"),
    (b"ce-type", b"bench.limits"),
    (b"ce-subject", b"order-1029"),
    (b"content-type", b"application/json"),
    (b"traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
]
BODY = b'{"order":{"id":"ord-1029","items":[{"sku":"WIDGET-1","quantity":2}],"total":129.5}}'
BROKER = [{"kind": "Broker", "metadata": {"name": "default", "namespace": "default"}, "spec": {}}]


def start_broker(state: Path, port: int, limits: bool) -> subprocess.Popen[bytes]:
    """One eventing data plane with the request limits on or off."""
    state.mkdir(parents=True, exist_ok=True)
    resources = state / "resources.json"
    resources.write_text(json.dumps(BROKER))
    env = {**os.environ, "BULUT_REQUEST_LIMITS": "true" if limits else "false"}
    command = [sys.executable, "-m", "bulut.eventing.standalone", "--resources", str(resources),
               "--state-dir", str(state), "--port", str(port)]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    try:
        wait_listening(port)
    except RuntimeError:
        process.kill()
        raise
    return process


async def round_of(
    pool: Client, port: int, first: int, count: int, concurrency: int
) -> dict[str, float]:
    """``count`` events by ``concurrency`` workers: events/s and latency percentiles (ms)."""
    origin = pool.pool("127.0.0.1", port)
    numbers = iter(range(first, first + count))
    latencies: list[float] = []

    async def worker() -> None:
        for i in numbers:
            headers = [*HEADERS, (b"ce-id", str(i).encode())]
            started = time.perf_counter()
            response = await origin.request("POST", "/default/default", headers=headers, body=BODY)
            latencies.append(time.perf_counter() - started)
            if response.status != 202:
                raise RuntimeError(f"event {i} answered {response.status}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "per_s": count / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


async def warm_path(args: argparse.Namespace) -> dict[str, Any]:
    """Requests/s and p50/p99 through a gateway with limits on and one with them off."""
    from bench.bench_dataplane import hello_plane, run_load
    from bulut.serving.front import Front

    use_wrk = shutil.which("wrk") is not None
    rounds: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
    async with hello_plane() as plane:
        unlimited = Front(plane.router, limits=False)
        await unlimited.start()
        try:
            ports = {"on": plane.front.port, "off": unlimited.port}
            for port in ports.values():  # warm-up
                await asyncio.to_thread(run_load, port, 64, 1.0, use_wrk)
            for n in range(args.rounds):
                for name in ("on", "off") if n % 2 == 0 else ("off", "on"):
                    rounds[name].append(
                        await asyncio.to_thread(
                            run_load, ports[name], 64, args.warm_seconds, use_wrk
                        )
                    )
        finally:
            await unlimited.stop()
    pairs = list(zip(rounds["on"], rounds["off"], strict=True))
    figures: dict[str, Any] = {
        name: {f: round(statistics.median(r[f] for r in rounds[name]), 1)
               for f in ("rps", "p50_us", "p99_us")}
        for name in ("on", "off")
    }  # fmt: skip
    figures["ratio_on_off"] = {
        f: round(statistics.median(on[f] / off[f] for on, off in pairs), 3)
        for f in ("rps", "p50_us", "p99_us")
    }
    figures["loadGenerator"] = "wrk" if use_wrk else "python"
    for name in ("on", "off"):
        shown = figures[name]
        print(
            f"warm path, limits {name:>3}: {shown['rps']:,.0f} req/s, "
            f"p50 {shown['p50_us']:.0f} us, p99 {shown['p99_us']:.0f} us "
            f"(median of {args.rounds} rounds of {args.warm_seconds:g} s, c=64, "
            f"{figures['loadGenerator']})"
        )
    ratios = figures["ratio_on_off"]
    print(
        f"warm path on / off, median of the rounds: throughput {ratios['rps']:.3f}x, "
        f"p50 {ratios['p50_us']:.3f}x, p99 {ratios['p99_us']:.3f}x"
    )
    return figures


async def main(args: argparse.Namespace) -> dict[str, Any]:
    figures = await broker(args)
    if not args.skip_warm_path:
        figures["warm_path"] = await warm_path(args)
    return figures


async def broker(args: argparse.Namespace) -> dict[str, Any]:
    pool = Client()
    rounds: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
    with tempfile.TemporaryDirectory(prefix="bench-limits-") as folder:
        ports = {"on": free_port(), "off": free_port()}
        brokers = {
            name: start_broker(Path(folder) / name, port, limits=name == "on")
            for name, port in ports.items()
        }
        try:
            for name in ("on", "off"):  # warm-up: connections, imports, the first fsyncs
                await round_of(pool, ports[name], 0, args.events // 5, args.concurrency)
            first = args.events
            for n in range(args.rounds):
                order = ("on", "off") if n % 2 == 0 else ("off", "on")
                for name in order:
                    rounds[name].append(
                        await round_of(pool, ports[name], first, args.events, args.concurrency)
                    )
                    first += args.events
        finally:
            pool.close()
            for process in brokers.values():
                process.terminate()
                process.wait(timeout=10)

    def median(name: str, figure: str) -> float:
        return statistics.median(r[figure] for r in rounds[name])

    def ratio(figure: str) -> float:
        pairs = zip(rounds["on"], rounds["off"], strict=True)
        return statistics.median(on[figure] / off[figure] for on, off in pairs)

    figures: dict[str, Any] = {
        name: {figure: round(median(name, figure), 3) for figure in ("per_s", "p50_ms", "p99_ms")}
        for name in ("on", "off")
    }
    figures["ratio_on_off"] = {f: round(ratio(f), 3) for f in ("per_s", "p50_ms", "p99_ms")}
    for name in ("on", "off"):
        shown = figures[name]
        print(
            f"limits {name:>3}: {shown['per_s']:,.0f} events/s, p50 {shown['p50_ms']:.2f} ms, "
            f"p99 {shown['p99_ms']:.2f} ms (median of {args.rounds} rounds of {args.events}, "
            f"c={args.concurrency})"
        )
    ratios = figures["ratio_on_off"]
    print(
        f"on / off, median of the rounds: throughput {ratios['per_s']:.3f}x, "
        f"p50 {ratios['p50_ms']:.3f}x, p99 {ratios['p99_ms']:.3f}x"
    )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Request limits on vs off (see the docstring).")
    parser.add_argument("--events", type=int, default=5_000, help="Events per round.")
    parser.add_argument("--rounds", type=int, default=6, help="Rounds per variant.")
    parser.add_argument("--concurrency", type=int, default=32, help="Requests in flight.")
    parser.add_argument("--warm-seconds", type=float, default=3.0, help="Warm-path round length.")
    parser.add_argument("--skip-warm-path", action="store_true", help="Measure the broker only.")
    before = [round(value, 2) for value in os.getloadavg()]
    results = uvloop.run(main(parser.parse_args()))
    if os.environ.get("BULUT_BENCH_RUN"):  # under `make bench` (python -m bench.…)
        from bench.history import record

        record("limits", results, before)
