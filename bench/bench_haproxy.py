"""HAProxy on the warm path, beside Bulut's gateway and calling the instance directly.

    .venv/bin/python -m bench.bench_haproxy [--seconds 4] [--rounds 3] [--python-client]

HAProxy here is a hand-written minimal configuration; ``bench_ingress.py`` measures the
ingress as `bulut up --ingress haproxy` builds and drives it.

The question of ADR 0015: would HAProxy (Debian's ``haproxy``, OpenShift's router) serving
the warm path, driven through its runtime API while Bulut keeps the activator and scaling
(Knative's split between its ingress and its activator), reach the data-plane targets
Bulut's own gateway misses? The trivial kn func http function runs as one forked instance
behind Bulut's gateway (as in ``bench_dataplane.py``). HAProxy (one thread, as the gateway
has one loop; HTTP keep-alive to the instance, ``http-reuse always``) starts with its
``Host`` map pointing every host at Bulut's gateway (the activator's place); the runtime
API then gives the instance a server slot and points the host at it, as Bulut would when a
revision has ready instances, and the time those commands take is reported.

Each round measures, alternating, straight to the instance (the baseline), through Bulut's
gateway and through HAProxy, at c=1 (latency) and c=64 (throughput), and reports the
medians of each round's ratios to its own direct baseline, and the CPU each proxy spends
per request. The load generator is wrk when installed (else a Python client in its own
process). Needs ``haproxy`` on PATH (``make bench`` installs it with apt).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.bench_broker import cpu_seconds, free_port, wait_listening
from bench.bench_dataplane import HOST, hello_plane, process_cpu, run_load

CONFIG = """\
global
    nbthread 1
    maxconn 4096
    stats socket {socket} mode 600 level admin
defaults
    mode http
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout http-keep-alive 75s
    option http-keep-alive
    http-reuse always
frontend data_plane
    bind 127.0.0.1:{port}
    option forwardfor
    http-request set-header X-Forwarded-Proto http if !{{ req.hdr(x-forwarded-proto) -m found }}
    use_backend %[req.hdr(host),lower,word(1,:),map_str({hosts},activator)]
backend activator
    server bulut 127.0.0.1:{activator}
backend hello-00001
    balance leastconn
    server-template slot 1-8 127.0.0.1:1 disabled
"""


class HAProxy:
    """One ``haproxy`` process in the foreground, with its runtime API socket."""

    def __init__(self, folder: Path, port: int, activator: int) -> None:
        self.socket = folder / "admin.sock"
        self.hosts = folder / "hosts.map"
        self.hosts.write_text("")
        config = folder / "haproxy.cfg"
        config.write_text(
            CONFIG.format(socket=self.socket, port=port, hosts=self.hosts, activator=activator)
        )
        self.port = port
        self.process = subprocess.Popen(
            ["haproxy", "-db", "-f", str(config)], stdout=subprocess.DEVNULL
        )
        wait_listening(port)

    def command(self, line: str) -> str:
        """One runtime API command; its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(self.socket))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def route_to_instance(self, instance_port: int) -> float:
        """Give the instance a server slot and point the host at it; seconds it took.

        Slots come from ``server-template`` (as OpenShift's router keeps them): a server
        added with ``add server`` got a new connection per request in HAProxy 2.6 (its
        idle-connection pool is not set up), one from a template reuses them.
        """
        started = time.perf_counter()
        answers = [
            self.command(f"set server hello-00001/slot1 addr 127.0.0.1 port {instance_port}"),
            self.command("set server hello-00001/slot1 state ready"),
            self.command(f"add map {self.hosts} {HOST} hello-00001"),
        ]
        elapsed = time.perf_counter() - started
        refused = [a for a in answers if a.strip() and "changed from" not in a]
        if refused:
            raise RuntimeError(f"haproxy runtime API refused: {refused}")
        return elapsed

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def served_by(port: int) -> str:
    """One GET with the service's Host through ``port``; the status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET / HTTP/1.1\r\nhost: {HOST}\r\nconnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer.split(b"\r\n", 1)[0].decode()


async def measure(seconds: float, use_wrk: bool, rounds_count: int) -> dict[str, Any]:
    async with hello_plane() as plane:
        with tempfile.TemporaryDirectory() as folder:
            haproxy = HAProxy(Path(folder), free_port(), plane.front.port)
            try:
                # in threads: the gateway answering through HAProxy runs on this loop
                before = await asyncio.to_thread(served_by, haproxy.port)  # empty map: Bulut
                switch = await asyncio.to_thread(haproxy.route_to_instance, plane.instance_port)
                after = await asyncio.to_thread(served_by, haproxy.port)
                version = subprocess.run(["haproxy", "-v"], capture_output=True, text=True)
                print(
                    f"HAProxy {version.stdout.split()[2]}, 1 thread; before the runtime API"
                    f" switch: {before!r} (via Bulut), after: {after!r}; add server + enable"
                    f" + map entry took {switch * 1000:.1f} ms"
                )
                return await rounds(plane, haproxy, seconds, use_wrk, rounds_count, switch)
            finally:
                haproxy.stop()


async def rounds(
    plane: Any, haproxy: HAProxy, seconds: float, use_wrk: bool, count: int, switch: float
) -> dict[str, Any]:
    legs = {"direct": plane.instance_port, "bulut": plane.front.port, "haproxy": haproxy.port}
    pid = haproxy.process.pid
    measured = await alternate(legs, process_cpu, lambda: cpu_seconds(pid), seconds, use_wrk, count)
    return summarise(measured, seconds, switch)


async def alternate(
    legs: dict[str, int],
    bulut_cpu: Callable[[], float],
    haproxy_cpu: Callable[[], float],
    seconds: float,
    use_wrk: bool,
    count: int,
) -> list[dict[str, dict[str, Any]]]:
    """``count`` rounds of every leg (port) at c=1 then c=64, in turn, after a warm-up; the
    CPU the Bulut process and HAProxy spent in each run."""

    async def run(leg: str, connections: int) -> dict[str, Any]:
        bulut, proxy = bulut_cpu(), haproxy_cpu()
        result = await asyncio.to_thread(run_load, legs[leg], connections, seconds, use_wrk)
        result["bulut_cpu_s"] = bulut_cpu() - bulut
        result["haproxy_cpu_s"] = haproxy_cpu() - proxy
        print(
            f"  {leg:<8} c={connections:<3} {result['rps']:9.0f} req/s  "
            f"p50 {result['p50_us']:7.0f} us  p99 {result['p99_us']:7.0f} us  Bulut CPU"
            f" {result['bulut_cpu_s']:.2f} s, HAProxy CPU {result['haproxy_cpu_s']:.2f} s"
        )
        return result

    for port in legs.values():  # warm-up
        await asyncio.to_thread(run_load, port, 64, 1.0, use_wrk)
    measured: list[dict[str, dict[str, Any]]] = []
    for number in range(1, count + 1):
        print(f"round {number}/{count} ({', '.join(legs)} alternate):")
        figures: dict[str, dict[str, Any]] = {}
        for connections in (1, 64):
            for leg in legs:
                figures[f"{leg}{connections}"] = await run(leg, connections)
        measured.append(figures)
    return measured


def summarise(
    measured: list[dict[str, dict[str, Any]]],
    seconds: float,
    switch: float,
    *,
    platform_cpu: bool = False,
) -> dict[str, Any]:
    """Per proxy: medians of each round's ratio to direct and added p50; CPU per request
    (with ``platform_cpu``, HAProxy's leg counts the platform process's CPU too: the access
    log and ``show stat`` polling are its share of the warm path)."""
    result: dict[str, Any] = {"runtime_api_switch_ms": round(switch * 1000, 2)}
    cpu_key = {"bulut": "bulut_cpu_s", "haproxy": "haproxy_cpu_s"}
    print(f"medians of {len(measured)} rounds, each against the direct baseline of its round:")
    for proxy in ("bulut", "haproxy"):
        ratio = [r[f"{proxy}64"]["rps"] / r["direct64"]["rps"] for r in measured]
        added = [r[f"{proxy}1"]["p50_us"] - r["direct1"]["p50_us"] for r in measured]
        cpu_us = [
            (
                r[f"{proxy}64"][cpu_key[proxy]]
                + (r[f"{proxy}64"]["bulut_cpu_s"] if platform_cpu and proxy == "haproxy" else 0)
            )
            / max(r[f"{proxy}64"]["rps"] * seconds, 1)
            * 1e6
            for r in measured
        ]
        result[proxy] = {
            "ratio_c64": round(statistics.median(ratio), 3),
            "added_p50_us": round(statistics.median(added), 1),
            "cpu_us_per_request": round(statistics.median(cpu_us), 1),
            "rps_c64": round(statistics.median([r[f"{proxy}64"]["rps"] for r in measured])),
        }
        print(
            f"  {proxy:<8} c=64 {result[proxy]['ratio_c64']:.2f}x direct (target >= 0.75x),"
            f" c=1 added p50 {result[proxy]['added_p50_us']:.0f} us (target <= 50 us),"
            f" {result[proxy]['cpu_us_per_request']:.0f} us of proxy CPU per request"
            f" [ratios {', '.join(f'{x:.2f}' for x in ratio)};"
            f" added {', '.join(f'{a:.0f}' for a in added)} us]"
        )
    result["direct_rps_c64"] = round(statistics.median([r["direct64"]["rps"] for r in measured]))
    result["direct_p50_us_c1"] = round(
        statistics.median([r["direct1"]["p50_us"] for r in measured]), 1
    )
    result["rounds"] = len(measured)
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return result


def rounds_arguments(description: str | None) -> argparse.Namespace:
    """--seconds per leg, --rounds, --python-client (never wrk): bench_haproxy's and
    bench_ingress's options."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0] if description else "")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--python-client", action="store_true", help="never use wrk")
    return parser.parse_args()


def main() -> None:
    args = rounds_arguments(__doc__)
    if shutil.which("haproxy") is None:
        print("skipped: haproxy is not installed (apt-get install haproxy; make bench does)")
        return
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    before = [round(value, 2) for value in os.getloadavg()]
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        figures = runner.run(measure(args.seconds, use_wrk, args.rounds))
    if os.environ.get("BULUT_BENCH_RUN"):  # under `make bench` (python -m bench.…)
        from bench.history import record

        record("haproxy", {**figures, "loadGenerator": "wrk" if use_wrk else "python"}, before)


if __name__ == "__main__":
    main()
