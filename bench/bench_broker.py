"""Benchmark: the durable broker against posting straight to the function, same run.

Starts a raw-ASGI subscriber (uvicorn, counts requests) and the eventing data plane
(``python -m bulut.eventing.standalone``: the ingress is a native ``bulut.httpd``
handler) as subprocesses on loopback, and drives them with a keep-alive load generator
in this process. Prints:

1. baseline: binary events POSTed directly to the subscriber ("the function");
2. durable ingest: the same events POSTed to the broker (fsync'd before 202), no trigger,
   with the broker's CPU time per event (its fsync helper process included); then the same
   at c=64 with wrk as the generator (section ``wrk``), whose direct baseline is not capped
   by a Python generator;
3. batched ingest: 100 events per ``application/cloudevents-batch+json`` request;
4. ingress latency at a paced 5,000 events/s (open loop over at most 256 connections,
   latency from each request's due time, as wrk2 measures), broker vs direct (marked not
   measured when the generator fell more than ``PACED_SLACK`` behind its schedule);
5. end to end: 10 triggers with attribute filters, one matching, subscriber acks;
6. recovery: ``kill -9`` with a backlog, restart, time to the first redelivery.

Sections 1, 2 and 4 run ``--rounds`` times, direct and broker alternating, and print the
median of the rounds (each round's ratio is taken against the baseline of the same
round), so a burst of load from another process on a shared machine moves one round,
not the figure.

Run: ``.venv/bin/python bench/bench_broker.py`` (about two minutes). ``--only e2e,paced``
runs some sections (``ingest``, ``batched``, ``paced``, ``e2e``, ``recovery``);
``--broker-path OTHER/platform/src`` runs another checkout's broker under the same generator
and subscriber (old code beside new: alternate runs of both). All traffic stays on
127.0.0.1; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop

from bulut.httpd import Client

SUBSCRIBER = """
import sys, asyncio, uvicorn
count = 0
delay = float(sys.argv[2])
async def app(scope, receive, send):
    global count
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    if scope["path"] == "/count":
        body = str(count).encode()
    else:
        count += 1
        body = b""
        if delay:
            await asyncio.sleep(delay)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="error",
            loop="uvloop", http="httptools", lifespan="off", access_log=False)
"""

HEADERS = [
    (b"ce-specversion", b"1.0"),
    (b"ce-source", b"/bench"),
    (b"content-type", b"application/json"),
]
BODY = b'{"hello":"world"}'


def free_port() -> int:
    """An ephemeral loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, timeout: float = 20.0) -> None:
    """Block until something accepts connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.01)
    raise RuntimeError(f"nothing listens on {port}")


def start_subscriber(port: int, delay: float = 0.0) -> subprocess.Popen[bytes]:
    """The function stand-in."""
    process = subprocess.Popen([sys.executable, "-c", SUBSCRIBER, str(port), str(delay)])
    wait_listening(port)
    return process


BROKER_PATH: str | None = None  # ``--broker-path``: another checkout's platform/src


def broker_environment() -> dict[str, str]:
    """The broker's environment: ``--broker-path`` first on its ``PYTHONPATH`` when given
    (old code beside new, the same generator and subscriber)."""
    env = dict(os.environ)
    if BROKER_PATH:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [BROKER_PATH, env.get("PYTHONPATH")]))
    return env


def start_broker(
    resources: list[dict[str, object]], state: Path, port: int
) -> subprocess.Popen[bytes]:
    """The eventing data plane, alone."""
    state.mkdir(parents=True, exist_ok=True)
    path = state / "resources.json"
    path.write_text(json.dumps(resources))
    command = [sys.executable, "-m", "bulut.eventing.standalone", "--resources", str(path),
               "--state-dir", str(state), "--port", str(port)]  # fmt: skip
    process = subprocess.Popen(command, env=broker_environment())
    try:
        wait_listening(port)
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a subprocess we started."""
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


def resources_with_triggers(subscriber_port: int, triggers: int) -> list[dict[str, object]]:
    """A broker and ``triggers`` triggers on distinct types; only ``type=bench.0`` matches."""
    items: list[dict[str, object]] = [
        {"kind": "Broker", "metadata": {"name": "default", "namespace": "default"}, "spec": {}}
    ]
    for n in range(triggers):
        items.append(
            {
                "kind": "Trigger",
                "metadata": {"name": f"t{n}", "namespace": "default"},
                "spec": {"broker": "default", "filter": {"attributes": {"type": f"bench.{n}"}}},
                "status": {"subscriberUri": f"http://127.0.0.1:{subscriber_port}/"},
            }
        )
    return items


Sender = Callable[[int], Awaitable[int]]


def sender(pool: Client, port: int, path: str, batch: int = 1) -> Sender:
    """POST event ``i`` (binary mode) or a batch of ``batch`` events starting at ``i``."""
    origin = pool.pool("127.0.0.1", port)  # Host: 127.0.0.1:<port>

    async def send(i: int) -> int:
        if batch == 1:
            headers = [*HEADERS, (b"ce-type", b"bench.0"), (b"ce-id", str(i).encode())]
            response = await origin.request("POST", path, headers=headers, body=BODY)
        else:
            events = [
                {"specversion": "1.0", "id": f"{i}-{k}", "source": "/bench", "type": "bench.0",
                 "datacontenttype": "application/json", "data": {"hello": "world"}}
                for k in range(batch)
            ]  # fmt: skip
            headers = [(b"content-type", b"application/cloudevents-batch+json")]
            body = json.dumps(events).encode()
            response = await origin.request("POST", path, headers=headers, body=body)
        return response.status

    return send


async def closed_loop(send: Sender, count: int, concurrency: int) -> tuple[float, list[float]]:
    """``count`` requests by ``concurrency`` workers; (requests/s, sorted latencies)."""
    numbers = iter(range(count))
    latencies: list[float] = []

    async def worker() -> None:
        for i in numbers:
            started = time.perf_counter()
            status = await send(i)
            latencies.append(time.perf_counter() - started)
            if status >= 300:
                raise RuntimeError(f"request {i} answered {status}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return count / elapsed, sorted(latencies)


PACED_SLACK = 0.05  # a generator that wakes later than this for a request is no open loop
PACED_CONNECTIONS = 256
PACED_WATCH = 0.005  # how often the generator checks that its own loop is on time


async def paced(
    send: Sender, rate: float, seconds: float, connections: int = PACED_CONNECTIONS
) -> tuple[list[float], float]:
    """Open loop, as wrk2 does it: request ``i`` is due ``i / rate`` s after the start and is
    sent over one of at most ``connections`` requests at once; (sorted latencies, each from
    when its request was *due*; how late the generator itself woke for a request it was
    free to send on time, in seconds).

    A server that stalls makes the due requests wait for a connection, and that wait is
    part of their latency (no coordinated omission), but it no longer makes the generator
    open hundreds of new connections at once (an unbounded generator turned a 100 ms stall
    into a storm of connects that the server then took seconds to accept). On a busy
    machine (or when sending costs the generator more than the interval) the generator's own
    timers fire late: that is what ``behind`` measures (see ``PACED_SLACK``).
    """
    latencies: list[float] = []
    numbers = iter(range(int(rate * seconds)))
    behind = 0.0
    watch_due = begin = time.perf_counter()

    async def connection() -> None:
        nonlocal behind
        for i in numbers:
            due = begin + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
                behind = max(behind, time.perf_counter() - due)
            await send(i)
            latencies.append(time.perf_counter() - due)

    async def watch() -> None:  # the generator's own loop: how late its timers fire
        nonlocal behind, watch_due
        while True:
            watch_due = time.perf_counter() + PACED_WATCH
            await asyncio.sleep(PACED_WATCH)
            behind = max(behind, time.perf_counter() - watch_due)

    watcher = asyncio.create_task(watch())
    await asyncio.gather(*(connection() for _ in range(connections)))
    behind = max(behind, time.perf_counter() - watch_due)
    watcher.cancel()
    return sorted(latencies), behind


def paced_verdict(behind: float) -> str | None:
    """Why a paced run's figures are not valid (None: they are)."""
    if behind <= PACED_SLACK:
        return None
    return (
        f"not measured: the load generator fell {behind * 1000:.0f} ms behind its schedule "
        f"(more than {PACED_SLACK * 1000:.0f} ms: the machine is too busy for an open loop)"
    )


def pct(latencies: list[float], q: float) -> float:
    """Percentile in milliseconds."""
    return latencies[min(int(len(latencies) * q), len(latencies) - 1)] * 1000


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its live descendants (the broker's fsync helper included:
    its work is the broker's work, though another process does it)."""
    total = cpu_seconds(pid)
    for tasks in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children = tasks.read_text().split()
        except OSError:
            continue
        total += sum(tree_cpu_seconds(int(child)) for child in children)
    return total


def median(values: list[float]) -> float:
    """The median of the rounds."""
    return statistics.median(values)


async def count_of(pool: Client, port: int) -> int:
    """Requests the subscriber has seen."""
    response = await pool.pool("127.0.0.1", port).request("GET", "/count", host="x")
    return int(response.body)


SECTIONS = ("ingest", "wrk", "batched", "paced", "e2e", "recovery")


def sections_of(text: str) -> tuple[str, ...]:
    """``--only``'s comma-separated sections, checked against :data:`SECTIONS`."""
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown section {', '.join(unknown) or '(none)'}: choose from {', '.join(SECTIONS)}"
        )
    return chosen


async def main(args: argparse.Namespace) -> dict[str, Any]:
    pool = Client()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        sub_port, broker_port = free_port(), free_port()
        subscriber = start_subscriber(sub_port)
        try:
            await run_ingest_and_e2e(pool, args, state, sub_port, broker_port, figures)
        finally:
            stop(subscriber)
        if "recovery" in args.only:
            figures["recovery"] = await recovery(pool, state / "recovery")
    pool.close()
    targets(figures)
    return figures


def targets(figures: dict[str, Any]) -> None:
    """Issue #17's targets beside the figures (ratios to the same-run direct baseline)."""
    print(f"targets (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs):")
    if "ingest" in figures:
        print(f"  durable ingest at c=64 >= 0.6x direct: {figures['ingest']['c64']['ratio']:.2f}x")
    if "wrkIngest" in figures:
        wrk_ = figures["wrkIngest"]
        print(
            f"  durable ingest at c=64 >= 0.6x direct, >= 25k/s (wrk): {wrk_['ratio']:.2f}x, "
            f"{wrk_['broker_per_s']:,}/s"
        )
    paced_ = figures.get("paced")
    if paced_ is not None and paced_["invalid"]:
        print(f"  paced 5,000/s broker p99 <= 2x direct p99: {paced_['invalid']}")
    elif paced_ is not None:
        print(
            f"  paced 5,000/s broker p99 <= 2x direct p99: {paced_['broker']['p99_ms']:.1f} ms"
            f" beside {paced_['direct']['p99_ms']:.1f} ms -> {paced_['p99_ratio']:.2f}x"
        )
    if "endToEnd" in figures:
        e2e = figures["endToEnd"]
        print(
            f"  end to end >= 15k delivered/s: {e2e['delivered_per_s']:,.0f}/s"
            f" ({e2e['ratio']:.2f}x direct posting)"
        )


async def run_ingest_and_e2e(
    pool: Client,
    args: argparse.Namespace,
    state: Path,
    sub_port: int,
    broker_port: int,
    figures: dict[str, Any],
) -> None:
    """Sections 1 to 5 (those in ``args.only``); their figures go into ``figures``."""
    if {"ingest", "wrk", "batched", "paced"} & set(args.only):
        broker = start_broker(resources_with_triggers(sub_port, 0), state / "ingest", broker_port)
        try:
            await ingest_sections(pool, args, sub_port, broker, broker_port, figures)
        finally:
            stop(broker)
    if "e2e" in args.only:
        await end_to_end(pool, args, state, sub_port, figures)


async def ingest_sections(
    pool: Client,
    args: argparse.Namespace,
    sub_port: int,
    broker: subprocess.Popen[bytes],
    broker_port: int,
    figures: dict[str, Any],
) -> None:
    """Sections 1 to 4, against one broker without triggers."""
    direct = sender(pool, sub_port, "/")
    ingest = sender(pool, broker_port, "/default/default")
    await closed_loop(direct, 2000, 64)  # warm up
    await closed_loop(ingest, 2000, 64)
    if "ingest" in args.only:
        for c in (64, 256):
            await closed_loop(direct, 2000, c)  # warm up at this concurrency
            await closed_loop(ingest, 2000, c)
            bases, ours, ratios, cpus, p50s, p99s = [], [], [], [], [], []
            for _ in range(args.rounds):
                base, _ = await closed_loop(direct, args.events, c)
                cpu = tree_cpu_seconds(broker.pid)
                rate, lat = await closed_loop(ingest, args.events, c)
                cpus.append((tree_cpu_seconds(broker.pid) - cpu) / args.events * 1e6)
                bases.append(base)
                ours.append(rate)
                ratios.append(rate / base)
                p50s.append(pct(lat, 0.5))
                p99s.append(pct(lat, 0.99))
            print(
                f"binary, c={c}: direct {median(bases):,.0f}/s | durable broker ingest "
                f"{median(ours):,.0f}/s (p50 {median(p50s):.2f} ms, p99 {median(p99s):.1f} ms, "
                f"broker CPU {median(cpus):.0f} us/event) | ratio {median(ratios):.2f} "
                f"[rounds: {', '.join(f'{r:,.0f}' for r in ours)}]"
            )
            figures.setdefault("ingest", {})[f"c{c}"] = {
                "direct_per_s": round(median(bases)),
                "broker_per_s": round(median(ours)),
                "ratio": round(median(ratios), 3),
                "p50_ms": round(median(p50s), 3),
                "p99_ms": round(median(p99s), 3),
                "broker_cpu_us": round(median(cpus), 1),
            }
    if "wrk" in args.only:
        wrk_ingest(args, sub_port, broker, broker_port, figures)
    if "batched" in args.only:
        batched = sender(pool, broker_port, "/default/default", batch=100)
        batch_ratios = []
        for _ in range(args.rounds):
            base, _ = await closed_loop(direct, args.events, 64)
            rate, _ = await closed_loop(batched, args.events // 100, 16)
            batch_ratios.append(rate * 100 / base)
        print(
            f"batched (100/request, c=16): durable broker ingest {rate * 100:,.0f} events/s"
            f" = {median(batch_ratios):.2f}x single events posted direct at c=64 (median of"
            f" {args.rounds} rounds)"
        )
        figures["batched"] = {"per_s": round(rate * 100), "ratio": round(median(batch_ratios), 3)}
    if "paced" in args.only:
        paced_p50: dict[str, list[float]] = {"direct": [], "broker": []}
        paced_p99: dict[str, list[float]] = {"direct": [], "broker": []}
        behind = 0.0
        for _ in range(args.rounds):
            for name, send in (("direct", direct), ("broker", ingest)):
                lat, late = await paced(send, 5000, args.seconds)
                behind = max(behind, late)
                paced_p50[name].append(pct(lat, 0.5))
                paced_p99[name].append(pct(lat, 0.99))
        for name in ("direct", "broker"):
            print(
                f"paced 5,000/s for {args.seconds:.0f} s, {name}: p50 "
                f"{median(paced_p50[name]):.2f} ms, p99 {median(paced_p99[name]):.2f} ms "
                f"[p99 rounds: {', '.join(f'{v:.1f}' for v in paced_p99[name])}]"
            )
        p99_ratios = [b / d for b, d in zip(paced_p99["broker"], paced_p99["direct"], strict=True)]
        invalid = paced_verdict(behind)
        print(
            f"paced p99, broker / direct of the same round: {median(p99_ratios):.2f}x"
            + (f" ({invalid})" if invalid else "")
        )
        figures["paced"] = {
            name: {
                "p50_ms": round(median(paced_p50[name]), 3),
                "p99_ms": round(median(paced_p99[name]), 3),
            }
            for name in ("direct", "broker")
        }
        figures["paced"]["p99_ratio"] = round(median(p99_ratios), 3)
        figures["paced"]["behind_ms"] = round(behind * 1000, 1)
        figures["paced"]["invalid"] = invalid


def wrk_ingest(
    args: argparse.Namespace,
    sub_port: int,
    broker: subprocess.Popen[bytes],
    broker_port: int,
    figures: dict[str, Any],
) -> None:
    """Durable ingest at c=64 with wrk (C) as the generator, direct and broker alternating
    for ``--seconds`` each round: a direct baseline the Python generator cannot post."""
    if shutil.which("wrk") is None:
        print("wrk ingest: not measured (wrk is not installed; `make bench` installs it)")
        return
    from bench.bench_platform import wrk  # bench_platform imports this module: not at the top

    bases, ours, ratios, cpus = [], [], [], []
    for _ in range(args.rounds):
        base = wrk(f"http://127.0.0.1:{sub_port}/", 64, args.seconds)["accepted_per_s"]
        cpu = tree_cpu_seconds(broker.pid)
        load = wrk(f"http://127.0.0.1:{broker_port}/default/default", 64, args.seconds)
        if load["non_2xx"]:
            raise RuntimeError(f"the broker refused {load['non_2xx']} events under wrk")
        cpus.append((tree_cpu_seconds(broker.pid) - cpu) / max(load["accepted"], 1) * 1e6)
        bases.append(base)
        ours.append(load["accepted_per_s"])
        ratios.append(load["accepted_per_s"] / base)
    print(
        f"binary, c=64, wrk: direct {median(bases):,.0f}/s | durable broker ingest "
        f"{median(ours):,.0f}/s (broker CPU {median(cpus):.0f} us/event) | ratio "
        f"{median(ratios):.2f} [rounds: {', '.join(f'{r:,.0f}' for r in ours)}]"
    )
    figures["wrkIngest"] = {
        "direct_per_s": round(median(bases)),
        "broker_per_s": round(median(ours)),
        "ratio": round(median(ratios), 3),
        "broker_cpu_us": round(median(cpus), 1),
    }


async def end_to_end(
    pool: Client, args: argparse.Namespace, state: Path, sub_port: int, figures: dict[str, Any]
) -> None:
    """Section 5: 10 triggers, one matching; delivered events/s and broker CPU per event."""
    e2e_port = free_port()
    broker = start_broker(resources_with_triggers(sub_port, 10), state / "e2e", e2e_port)
    try:
        before = await count_of(pool, sub_port)
        send = sender(pool, e2e_port, "/default/default")
        cpu = tree_cpu_seconds(broker.pid)
        started = time.perf_counter()
        accepted, _ = await closed_loop(send, args.events, 128)
        while await count_of(pool, sub_port) - before < args.events:
            if time.perf_counter() - started > 120:
                raise RuntimeError("end-to-end run did not drain")
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        used = (tree_cpu_seconds(broker.pid) - cpu) / args.events * 1e6
        base, _ = await closed_loop(sender(pool, sub_port, "/"), args.events, 128)
        delivered = args.events / elapsed
        print(
            f"end to end, 10 triggers / 1 matching: accepted {accepted:,.0f}/s, "
            f"delivered {delivered:,.0f}/s sustained ({args.events} events, "
            f"broker CPU {used:.0f} us/event) = {delivered / base:.2f}x posting direct at c=128"
            f" ({base:,.0f}/s, right after)"
        )
        figures["endToEnd"] = {
            "accepted_per_s": round(accepted),
            "delivered_per_s": round(delivered),
            "direct_per_s": round(base),
            "ratio": round(delivered / base, 3),
            "broker_cpu_us": round(used, 1),
        }
    finally:
        stop(broker)


async def recovery(pool: Client, state: Path) -> dict[str, float]:
    """kill -9 with a backlog, restart, and time the first redelivery."""
    sub_port, port = free_port(), free_port()
    subscriber = start_subscriber(sub_port, delay=0.05)
    try:
        broker = start_broker(resources_with_triggers(sub_port, 1), state, port)
    except BaseException:
        stop(subscriber)
        raise
    try:
        await closed_loop(sender(pool, port, "/default/default"), 3000, 64)
        os.kill(broker.pid, signal.SIGKILL)
        broker.wait()
        seen = await count_of(pool, sub_port)
        await asyncio.sleep(0.2)
        seen = await count_of(pool, sub_port)
        spawned = time.perf_counter()
        path = state / "resources.json"
        command = [sys.executable, "-m", "bulut.eventing.standalone", "--resources", str(path),
                   "--state-dir", str(state), "--port", str(port)]  # fmt: skip
        broker = subprocess.Popen(command, env=broker_environment())
        listening: float | None = None
        while await count_of(pool, sub_port) == seen:
            if listening is None:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        listening = time.perf_counter()
            if time.perf_counter() - spawned > 30:
                raise RuntimeError("no redelivery after restart")
            await asyncio.sleep(0.002)
        first = time.perf_counter()
        after_listen = f"{(first - listening) * 1000:.0f} ms after it listened" if listening else ""
        print(
            f"recovery: first redelivery {(first - spawned) * 1000:.0f} ms after the restart "
            f"(process spawn, imports included); {after_listen}; backlog at kill ~{3000 - seen}"
        )
        return {"first_redelivery_ms": round((first - spawned) * 1000, 1)}
    finally:
        stop(broker)
        stop(subscriber)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Broker benchmark (see module docstring).")
    parser.add_argument("--events", type=int, default=30_000, help="Events per closed-loop run.")
    parser.add_argument("--seconds", type=float, default=4.0, help="Length of the paced runs.")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of sections 1, 2 and 4.")
    parser.add_argument(
        "--only",
        type=sections_of,
        default=SECTIONS,
        help=f"Comma-separated sections to run (default all: {','.join(SECTIONS)}).",
    )
    parser.add_argument(
        "--broker-path",
        help="Run the broker from this platform/src (another checkout: old code, same load).",
    )
    before = [round(value, 2) for value in os.getloadavg()]
    arguments = parser.parse_args()
    BROKER_PATH = arguments.broker_path
    results = uvloop.run(main(arguments))
    if os.environ.get("BULUT_BENCH_RUN"):  # under `make bench` (python -m bench.…)
        from bench.history import record

        record("broker", results, before)
