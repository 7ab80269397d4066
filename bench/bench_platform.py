"""The platform as a user meets it: `bulut up` with the sample app, driven as users drive it.

    .venv/bin/python -m bench.bench_platform [--seconds 10] [--orders 40] [--connections 64]

Starts `bulut up` (own free ports, a temporary state dir, the function environments from
the usual cache) with the sample app three times: observability on (the default), tracing
off (``BULUT_TRACING=false``) and both tracing and metrics off (``BULUT_METRICS=false`` too);
the differences are their shares of the platform process's CPU. Each time:

1. **events**: wrk posts binary CloudEvents of a type only the sample's catch-all audit
   trigger matches to the broker (``/shop-dev/default``) at ``--connections`` for
   ``--seconds``: accepted events/s (2xx answers), then delivered events/s (the audit
   trigger's cursor, from the load's start until it has caught up);
2. **orders**: ``--orders`` orders through the saga (orders → broker → inventory → payments
   → orders, notifications, audit), 8 at a time: saga completions/s (an order is complete
   when its status is final);
3. **CPU split** over both: the platform process (gateway, broker ingress and delivery,
   control plane, tracing and metrics all share its one loop), each function's processes
   (zygote, parked child, instances), the Vault dev server, per accepted event; when py-spy
   is installed (``uv pip install py-spy``) it samples the platform and audit during the
   event load and the platform's CPU is split further (ingress, delivery, the gateway hop to
   the function, tracing, metrics, HTTP parsing, control plane); ``--profile DIR`` keeps the
   samples (collapsed stacks), ``--no-profile`` skips them, ``--gil`` samples only the thread
   holding the GIL (a thread waiting in C, such as the span store's SQLite commit, is then not
   counted as busy).

``--baseline OTHER_CHECKOUT --rounds 2`` alternates this checkout and another (old code
against new, observability on) and prints the means and new ÷ old.

``--hop`` measures only the delivery's hop to a local function: this process's client sends
binary CloudEvents to its own gateway, which forwards them to a trivial instance, over a
loopback socket against handed over in-process (ADR 0029), alternating for ``--rounds``:
deliveries/s and this process's CPU per delivery.

``--reports`` measures only the control plane's CPU per Revision runtime report with the
sample app applied (in this process, SQLite in a temporary directory), for three kinds of
report the data plane sends under load: the runtime's picture alone (cold starts, instances,
memory: ``status.bulut``), the ``Active`` condition alone, and a scale change (replicas);
with ``--baseline OTHER_CHECKOUT`` alternating with the other checkout's code (ADR 0032).

Beside it, in the same run: the broker alone (``bulut.eventing.standalone``, one catch-all
trigger to a trivial subscriber) under the same wrk load; the platform's figures are
reported as ratios to it. Targets (issue #17): >= 10k accepted events/s into the sample
app's broker with the catch-all trigger delivering; observability <= 15% of the platform's
CPU (on against off).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.bench_broker import cpu_seconds, free_port, wait_listening

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "shop-dev"
EVENT_TYPE = "com.example.bench.ping"  # matched by the audit trigger alone (no filter)
LUA = """
counter = 0
request = function()
  counter = counter + 1
  wrk.headers["ce-id"] = "bench-" .. counter .. "-" .. math.random(1000000000)
  return wrk.format("POST", nil, nil, '{"hello":"world"}')
end
"""
SUBSCRIBER = """
import sys, uvicorn
count = 0
async def app(scope, receive, send):
    global count
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    body = b""
    if scope["path"] == "/count":
        body = str(count).encode()
    else:
        count += 1
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="error",
            loop="uvloop", http="httptools", lifespan="off", access_log=False)
"""


async def stop_up(process: asyncio.subprocess.Process, state: Path) -> None:
    """Stop a `bulut up` as Ctrl-C does (SIGKILL if it has not stopped after 60 s), and
    remove its state folder."""
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 60)
        except TimeoutError:
            process.kill()
            await process.wait()
    shutil.rmtree(state, ignore_errors=True)


def descendants(root: int) -> list[int]:
    """Every process under ``root`` (from /proc's parent links)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, queue = [], [root]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def group_of(pid: int, platform: int) -> str:
    """What a process is: the platform, a function (by its project folder), vault, other."""
    if pid == platform:
        return "platform"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            argv = cmdline.read().split(b"\0")
    except OSError:
        return "gone"
    if b"--project" in argv:
        return f"function {Path(argv[argv.index(b'--project') + 1].decode()).name}"
    return "vault" if any(b"bao" in part for part in argv[:2]) else "other"


class CpuMeter:
    """CPU seconds per group of processes between :meth:`start` and :meth:`stop`.

    Processes that appear meanwhile (instances of a scale-up) count from zero; processes
    that exit meanwhile lose what they used since the last sample, so it samples often.
    """

    def __init__(self, platform: int) -> None:
        self.platform = platform
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.groups: dict[int, str] = {}
        self._task: asyncio.Task[None] | None = None

    def sample(self, *, baseline: bool = False) -> None:
        """Read every process's CPU; ``baseline``: what they used so far does not count."""
        for pid in [self.platform, *descendants(self.platform)]:
            used = cpu_seconds(pid)
            if pid not in self.first:
                self.first[pid] = used if baseline else 0.0
                self.groups[pid] = group_of(pid, self.platform)
            if used:
                self.last[pid] = used

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            self.sample()

    def start(self) -> None:
        self.sample(baseline=True)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> dict[str, float]:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.sample()
        split: dict[str, float] = {}
        for pid, first in self.first.items():
            split.setdefault(self.groups[pid], 0.0)
            split[self.groups[pid]] += max(self.last.get(pid, first) - first, 0.0)
        return {group: round(seconds, 2) for group, seconds in sorted(split.items())}


# -- load -----------------------------------------------------------------------------------
def wrk(url: str, connections: int, seconds: float, host: str | None = None) -> dict[str, float]:
    """wrk posting binary CloudEvents to ``url``: requests/s and 2xx answers/s."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    headers = ["ce-specversion: 1.0", "ce-source: /bench", f"ce-type: {EVENT_TYPE}"]
    headers += ["content-type: application/json", *([f"Host: {host}"] if host else [])]
    command = ["wrk", "-t1", f"-c{connections}", f"-d{round(seconds)}s", "-s", script.name]
    for header in headers:
        command += ["-H", header]
    try:
        text = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    requests = int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
    elapsed = float(re.search(r"requests in ([\d.]+)s", text).group(1))  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = int(failed.group(1)) if failed else 0
    return {
        "requests_per_s": round(requests / elapsed),
        "accepted_per_s": round((requests - errors) / elapsed),
        "accepted": requests - errors,
        "non_2xx": errors,
    }


async def audit_cursor(control: httpx.AsyncClient) -> tuple[int, int, int]:
    """(cursor, pending + in progress, log head) of the sample's catch-all audit trigger."""
    stats = (await control.get("/eventing/stats")).json()
    for key, trigger in stats["triggers"].items():
        if key.startswith(f"{NAMESPACE}/audit"):
            busy = int(trigger["pending"]) + int(trigger["inProgress"])
            return int(trigger["cursor"] or 0), busy, int(stats["head"])
    raise RuntimeError(f"no audit trigger in {sorted(stats['triggers'])}")


async def drive_events(
    data_port: int, control: httpx.AsyncClient, connections: int, seconds: float
) -> dict[str, Any]:
    """Accepted events/s (wrk), then delivered events/s until the audit trigger caught up."""
    cursor, _, _ = await audit_cursor(control)
    started = time.perf_counter()
    url = f"http://127.0.0.1:{data_port}/{NAMESPACE}/default"
    load = await asyncio.to_thread(wrk, url, connections, seconds)
    deadline = time.perf_counter() + 300
    while True:
        now_cursor, busy, head = await audit_cursor(control)
        if (busy == 0 and now_cursor >= head) or time.perf_counter() > deadline:
            break
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    delivered = now_cursor - cursor
    return {**load, "delivered_per_s": round(delivered / elapsed), "delivered": delivered}


async def drive_orders(data_port: int, count: int, concurrency: int = 8) -> dict[str, Any]:
    """``count`` orders through the saga: completions/s and final statuses."""
    host = {"host": f"orders.{NAMESPACE}.localhost"}
    order = {
        "customer": "bench",
        "email": "bench@example.com",
        "card_token": "tok_ok",
        "items": [{"sku": "WIDGET-1", "quantity": 1}],
    }
    gate = asyncio.Semaphore(concurrency)
    statuses: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{data_port}", timeout=120) as client:

        async def one() -> None:
            async with gate:
                created = await client.post("/orders", headers=host, json=order)
                created.raise_for_status()
                order_id = created.json()["id"]
            deadline = time.perf_counter() + 120
            while time.perf_counter() < deadline:
                status = (await client.get(f"/orders/{order_id}", headers=host)).json()["status"]
                if status not in ("pending", "reserved"):
                    statuses[status] += 1
                    return
                await asyncio.sleep(0.05)
            statuses["unfinished"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        elapsed = time.perf_counter() - started
    done = count - statuses["unfinished"]
    return {"completions_per_s": round(done / elapsed, 2), "statuses": dict(statuses)}


# -- the platform -----------------------------------------------------------------------------
MODES = {  # name -> (BULUT_TRACING, BULUT_METRICS)
    "observability on": (True, True),
    "tracing off": (False, True),
    "observability off": (False, False),
}


async def platform_run(
    args: argparse.Namespace, mode: str, root: Path = ROOT, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """`bulut up` of the checkout at ``root`` with its sample app (``env`` added to its
    environment): events, orders and the CPU split."""
    tracing, metrics = MODES[mode]
    data_port, control_port = free_port(), free_port()
    state = Path(tempfile.mkdtemp(prefix="bulut-bench-platform-"))
    environ = {**os.environ, "BULUT_TRACING": str(tracing).lower()}
    environ["BULUT_METRICS"] = str(metrics).lower()
    environ.update(env or {})
    environ.pop("BULUT_BENCH_RUN", None)
    command = [str(root / ".venv" / "bin" / "bulut"), "up", "--no-kubeconfig"]
    command += ["--state-dir", str(state)]
    command += ["--data-port", str(data_port), "--control-port", str(control_port)]
    if args.builds_dir is not None:
        command += ["--builds-dir", str(args.builds_dir.resolve())]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=root, env=environ, stdout=asyncio.subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None
    profiles: list[Path] = []
    try:
        deadline = time.monotonic() + args.ready_within
        while time.monotonic() < deadline:
            line = await asyncio.wait_for(process.stdout.readline(), args.ready_within)
            if not line:
                raise RuntimeError("bulut up exited before the sample app was ready")
            if b"Ctrl-C stops everything" in line:
                break
        drain = asyncio.get_running_loop().create_task(_drain(process.stdout))
        control_url = f"http://127.0.0.1:{control_port}"
        async with httpx.AsyncClient(base_url=control_url, timeout=120) as control:
            await drive_orders(data_port, 2)  # every function's first cold start, off the clock
            meter = CpuMeter(process.pid)
            meter.start()
            spies, profiles = profile(process.pid, args, mode) if args.profile else ([], [])
            events = await drive_events(data_port, control, args.connections, args.seconds)
            events_cpu = await meter.stop()
            for spy in spies:
                await asyncio.to_thread(spy.wait, 60)
            meter = CpuMeter(process.pid)
            meter.start()
            orders = await drive_orders(data_port, args.orders)
            orders_cpu = await meter.stop()
        drain.cancel()
    finally:
        await stop_up(process, state)
    accepted = max(events["accepted"], 1)
    per_event = {group: round(s / accepted * 1e6) for group, s in events_cpu.items()}
    run = {
        "events": events,
        "eventsCpuSeconds": events_cpu,
        "eventsCpuUsPerEvent": per_event,
        "orders": orders,
        "ordersCpuSeconds": orders_cpu,
    }
    platform_profile = [path for path in profiles if path.name.startswith("platform-")]
    if platform_profile and platform_profile[0].is_file():
        shares = platform_split(platform_profile[0].read_text())
        run["platformSplitUsPerEvent"] = {
            part: round(share * per_event.get("platform", 0)) for part, share in shares.items()
        }
    return run


def profile(
    platform: int, args: argparse.Namespace, mode: str
) -> tuple[list[subprocess.Popen[bytes]], list[Path]]:
    """py-spy on the platform and on every process of the audit function for the event load:
    collapsed stacks in ``--profile DIR``/<group>-<mode>-<pid>.txt."""
    spy = py_spy()
    assert spy is not None and args.profile is not None
    args.profile.mkdir(parents=True, exist_ok=True)
    spies, paths = [], []
    for pid in [platform, *descendants(platform)]:
        group = group_of(pid, platform)
        if group not in ("platform", "function audit"):
            continue
        out = args.profile / f"{group.replace(' ', '-')}-{mode.replace(' ', '-')}-{pid}.txt"
        command = [spy, "record", "-p", str(pid), "-d", str(round(args.seconds)), "-f", "raw"]
        command += ["--nonblocking", "-r", "100", "-o", str(out)]
        if args.gil:  # only the thread holding the GIL: no thread waiting in C counts as busy
            command.append("--gil")
        paths.append(out)
        spies.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
    return spies, paths


def py_spy() -> str | None:
    """The py-spy executable (on PATH or in the venv), or None."""
    venv = ROOT / ".venv" / "bin" / "py-spy"
    return shutil.which("py-spy") or (str(venv) if venv.is_file() else None)


# What a frame of the platform's stacks belongs to: the innermost observability frame wins
# (a span made inside the ingress is tracing's), else the innermost frame of a plane or of
# bulut.httpd (a delivery's HTTP client call is HTTP's, its retry loop delivery's).
INNER_PARTS = (
    ("tracing", ("bulut/observability/tracer.py", "bulut/observability/spans.py",
                 "bulut/observability/tracing.py", "bulut/observability/otlp.py")),
    ("metrics", ("bulut/observability/metrics.py", "prometheus_client/")),
)  # fmt: skip
OUTER_PARTS = (
    ("ingress", ("bulut/eventing/ingress.py", "bulut/eventing/log.py",
                 "bulut/eventing/front.py", "bulut/eventing/hosts.py", "bulut/events/")),
    ("delivery", ("bulut/eventing/delivery.py", "bulut/eventing/dispatcher.py")),
    ("gateway hop to the function", ("bulut/serving/gateway.py",)),
    ("control plane and status", ("bulut/controlplane/", "bulut/serving/dataplane.py",
                                  "bulut/serving/launcher.py", "bulut/serving/revisions.py",
                                  "bulut/gitops/", "bulut/dashboard/")),
    ("HTTP parsing and writes", ("bulut/httpd/",)),
)  # fmt: skip


def frame_part(stack: list[str]) -> str:
    """The part of the platform one sampled stack (root first) is spent in."""
    for parts in (INNER_PARTS, OUTER_PARTS):
        for frame in reversed(stack):
            for part, markers in parts:
                if any(marker in frame for marker in markers):
                    return part
    return "event loop and other"


def platform_split(collapsed: str) -> dict[str, float]:
    """Share of the platform's sampled CPU per part, from py-spy's collapsed stacks."""
    counts: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[frame_part(stack.split(";"))] += int(count)
    total = sum(counts.values()) or 1
    return {part: count / total for part, count in counts.most_common()}


async def _drain(stream: asyncio.StreamReader) -> None:
    """Keep reading `bulut up`'s output so it never blocks on a full pipe."""
    while await stream.readline():
        pass


async def standalone_run(args: argparse.Namespace) -> dict[str, Any]:
    """The broker alone with one catch-all trigger to a trivial subscriber, same load."""
    sub_port, port = free_port(), free_port()
    subscriber = subprocess.Popen([sys.executable, "-c", SUBSCRIBER, str(sub_port)])
    state = Path(tempfile.mkdtemp(prefix="bulut-bench-broker-"))
    resources = [
        {"kind": "Broker", "metadata": {"name": "default", "namespace": NAMESPACE}, "spec": {}},
        {
            "kind": "Trigger",
            "metadata": {"name": "audit", "namespace": NAMESPACE},
            "spec": {"broker": "default"},
            "status": {"subscriberUri": f"http://127.0.0.1:{sub_port}/"},
        },
    ]
    (state / "resources.json").write_text(json.dumps(resources))
    command = [sys.executable, "-m", "bulut.eventing.standalone", "--resources"]
    command += [str(state / "resources.json"), "--state-dir", str(state), "--port", str(port)]
    broker = subprocess.Popen(command)
    try:
        wait_listening(sub_port)
        wait_listening(port)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{sub_port}", timeout=120
        ) as client:
            before = int((await client.get("/count")).text)
            started = time.perf_counter()
            cpu = cpu_seconds(broker.pid)
            url = f"http://127.0.0.1:{port}/{NAMESPACE}/default"
            load = await asyncio.to_thread(wrk, url, args.connections, args.seconds)
            deadline = time.perf_counter() + 300
            while (delivered := int((await client.get("/count")).text) - before) < load[
                "accepted"
            ] and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
            used = cpu_seconds(broker.pid) - cpu
    finally:
        for process in (broker, subscriber):
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(state, ignore_errors=True)
    return {
        **load,
        "delivered_per_s": round(delivered / elapsed),
        "brokerCpuUsPerEvent": round(used / max(load["accepted"], 1) * 1e6),
    }


# -- the delivery's hop to a local function, alone ---------------------------------------
HOP_HOST = "audit.shop-dev.localhost"
HOP_HEADERS = [
    (b"ce-specversion", b"1.0"), (b"ce-id", b"hop-1"), (b"ce-source", b"/bench"),
    (b"ce-type", EVENT_TYPE.encode()), (b"content-type", b"application/json"),
    (b"traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"),
    (b"prefer", b"reply"), (b"kn-namespace", NAMESPACE.encode()),
]  # fmt: skip


async def hop_run(args: argparse.Namespace) -> dict[str, Any]:
    """What `bulut up` does for each delivery to one of its functions, alone: the broker's
    client sends binary CloudEvents to the gateway (this process), which validates, routes
    and forwards them to a ready instance (the trivial subscriber, a subprocess) at
    ``--connections``; over a loopback socket against handed over in-process (ADR 0029),
    alternating for ``--rounds``. CPU per delivery is this process's (client and gateway)."""
    from bulut.httpd import InProcessPool, OriginPool
    from bulut.serving.autoscaler import DeciderSpec
    from bulut.serving.front import Front
    from bulut.serving.instances import Instance, State
    from bulut.serving.revisions import RevisionRuntime, RevisionSpec
    from bulut.serving.router import Router
    from bulut.serving.traffic import Split
    from bulut.serving.zygote import Child, Workload

    port = free_port()
    subscriber = subprocess.Popen([sys.executable, "-c", SUBSCRIBER, str(port)])
    loop = asyncio.get_running_loop()
    workload = Workload(python=Path(sys.executable), project=ROOT, flavour="cloudevents")
    spec = RevisionSpec(NAMESPACE, "audit-00001", workload, ROOT, service="audit")
    runtime = RevisionRuntime(spec, DeciderSpec(min_scale=1, initial_scale=1), tick_interval=3600)
    child = Child(0, port, loop.create_future())
    instance = Instance(child, container_concurrency=0, cold_start="pool")
    instance.state = State.READY
    runtime.ready.append(instance)
    router = Router({(NAMESPACE, "audit-00001"): runtime})
    router.table = {HOP_HOST: Split.of(NAMESPACE, "audit", [("audit-00001", 100)])}
    front = Front(router)
    pools = {
        "socket": OriginPool("127.0.0.1", front.port),
        "in-process": InProcessPool(front.gateway, "127.0.0.1", front.port),
    }

    async def drive(pool: OriginPool, seconds: float) -> dict[str, float]:
        done = 0
        stop = time.perf_counter() + seconds

        async def sender() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                answer = await pool.request(
                    b"POST", b"/", host=HOP_HOST, headers=HOP_HEADERS, body=b'{"hello":"world"}',
                    total=300.0,
                )  # fmt: skip
                assert answer.status == 200, answer.status
                done += 1

        cpu, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(args.connections)))
        elapsed = time.perf_counter() - started
        return {
            "deliveries_per_s": round(done / elapsed),
            "cpuUsPerDelivery": round((time.process_time() - cpu) / max(done, 1) * 1e6, 1),
        }

    runs: dict[str, list[dict[str, float]]] = {name: [] for name in pools}
    try:
        wait_listening(port)
        await front.start()
        for name in pools:  # warm both paths (connections, the router's caches)
            await drive(pools[name], 0.5)
        for index in range(args.rounds):
            order = list(pools) if index % 2 == 0 else list(reversed(pools))
            for name in order:
                run = await drive(pools[name], args.seconds)
                runs[name].append(run)
                print(f"round {index + 1} {name}: {run}", flush=True)
    finally:
        await front.stop(grace=1.0)
        subscriber.terminate()
        subscriber.wait(timeout=30)
    figures: dict[str, Any] = {"runs": runs}
    for label in ("deliveries_per_s", "cpuUsPerDelivery"):
        old = sum(r[label] for r in runs["socket"]) / len(runs["socket"])
        new = sum(r[label] for r in runs["in-process"]) / len(runs["in-process"])
        figures[label] = {"socket": round(old, 1), "in-process": round(new, 1)}
        print(f"{label}: socket {old:,.1f}, in-process {new:,.1f}, ratio {new / old:.2f}x")
    print(f"load average {os.getloadavg()} on {os.cpu_count()} CPUs")
    return figures


REPORT_KINDS = ("picture", "active", "scale")


def runtime_report(kind: str, n: int) -> dict[str, Any]:
    """The ``n``-th report of ``kind`` of a Ready revision (what the data plane sends)."""
    ready = [
        {"type": "ResourcesAvailable", "status": "True"},
        {"type": "ContainerHealthy", "status": "True"},
    ]
    scale = 1 + n % 2 if kind == "scale" else 1
    active = "False" if kind == "active" and n % 2 else "True"
    picture = n if kind == "picture" else 0
    return {
        "desiredScale": scale,
        "actualScale": scale,
        "readyInstances": scale,
        "conditions": [*ready, {"type": "Active", "status": active}],
        "coldStarts": {"pool": picture, "fork": 0, "spawn": 0},
        "instances": [{"pid": 100 + i} for i in range(scale)],
        "activatorQueue": 0,
        "zygote": {"pid": 9, "pssBytes": 1000 + picture},
    }


async def reports_once(rounds: int) -> dict[str, float]:
    """CPU ms per report of each kind, this process's code, the sample app applied."""
    from bulut.controlplane import ControlPlane
    from bulut.local import load_paths
    from bulut.settings import Settings

    state = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    settings = Settings(state_dir=state, functions_dir=Path("functions").resolve())
    plane = ControlPlane(settings, check_images=False)
    await plane.start()
    try:
        await plane.apply(load_paths([Path("gitops/overlays/dev")], kustomize=True))
        names = sorted(r["metadata"]["name"] for r in await plane.list("Revision", NAMESPACE))
        for n in range(3):  # Ready, then warm
            for name in names:
                await plane.report("Revision", NAMESPACE, name, runtime_report("picture", n))
        figures: dict[str, float] = {}
        for kind in REPORT_KINDS:
            cpu, count = time.process_time(), 0
            for n in range(10, 10 + rounds):
                for name in names:
                    await plane.report("Revision", NAMESPACE, name, runtime_report(kind, n))
                    count += 1
            figures[kind] = round((time.process_time() - cpu) / count * 1e3, 2)
        return figures
    finally:
        await plane.aclose()
        shutil.rmtree(state, ignore_errors=True)


async def reports_run(args: argparse.Namespace) -> dict[str, Any]:
    """``reports_once`` for this checkout, alternating with ``--baseline``'s when given
    (its own Python and code, this benchmark's module)."""
    trees = (
        {"new": ROOT} if args.baseline is None else {"old": args.baseline.resolve(), "new": ROOT}
    )
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for index in range(args.rounds):
        order = list(trees) if index % 2 == 0 else list(reversed(trees))
        for name in order:
            tree = trees[name]
            # this module (by path, with this tree's bench package), that tree's bulut
            command = [str(tree / ".venv" / "bin" / "python"), str(Path(__file__).resolve())]
            command += ["--reports-once", str(max(round(args.seconds), 2))]
            environ = {**os.environ, "PYTHONPATH": str(ROOT)}
            environ.pop("BULUT_BENCH_RUN", None)
            done = await asyncio.to_thread(
                subprocess.run, command, cwd=tree, env=environ, capture_output=True, check=True
            )
            run = json.loads(done.stdout.decode().strip().splitlines()[-1])
            runs[name].append(run)
            print(f"round {index + 1} {name}: CPU ms per report {run}", flush=True)
    figures: dict[str, Any] = {"runs": runs}
    for kind in REPORT_KINDS:
        means = {name: sum(r[kind] for r in runs[name]) / len(runs[name]) for name in runs}
        figures[kind] = {name: round(mean, 2) for name, mean in means.items()}
        line = ", ".join(f"{name} {mean:.2f} ms" for name, mean in means.items())
        if "old" in means:
            line += f", new/old {means['new'] / means['old']:.2f}x"
        print(f"{kind} report: CPU per report {line}")
    print(f"load average {os.getloadavg()} on {os.cpu_count()} CPUs")
    return figures


def report(figures: dict[str, Any]) -> None:
    alone = figures["standalone"]
    print(
        f"broker alone (catch-all trigger, trivial subscriber): accepted "
        f"{alone['accepted_per_s']:,}/s, delivered {alone['delivered_per_s']:,}/s, broker CPU "
        f"{alone['brokerCpuUsPerEvent']} us/event"
    )
    for mode in MODES:
        run = figures[mode]
        events, orders = run["events"], run["orders"]
        print(f"bulut up with the sample app, {mode}:")
        print(
            f"  events: accepted {events['accepted_per_s']:,}/s "
            f"({events['accepted_per_s'] / max(alone['accepted_per_s'], 1):.2f}x the broker alone;"
            f" {events['non_2xx']} non-2xx), delivered {events['delivered_per_s']:,}/s "
            f"({events['delivered_per_s'] / max(alone['delivered_per_s'], 1):.2f}x)"
        )
        split = ", ".join(f"{g} {us} us" for g, us in run["eventsCpuUsPerEvent"].items())
        print(f"  CPU per accepted event: {split}")
        if "platformSplitUsPerEvent" in run:
            split_us = run["platformSplitUsPerEvent"]
            parts = ", ".join(f"{p} {us}" for p, us in split_us.items())
            print(f"  the platform's CPU per event by part (py-spy), us: {parts}")
            observed = split_us.get("tracing", 0) + split_us.get("metrics", 0)
            run["observabilityShareSampled"] = round(observed / max(sum(split_us.values()), 1), 3)
            print(
                f"  tracing and metrics (py-spy): {observed} us per event, "
                f"{run['observabilityShareSampled']:.0%} of the platform's CPU (trace context "
                "propagation counts as tracing and stays when tracing is off)"
            )
        print(
            f"  orders: {orders['completions_per_s']} saga completions/s "
            f"({orders['statuses']}); CPU s: {run['ordersCpuSeconds']}"
        )
    per_event = {mode: platform_us(figures[mode]) for mode in MODES}
    on = max(per_event["observability on"], 1e-9)
    shares = {
        "tracing": (per_event["observability on"] - per_event["tracing off"]) / on,
        "metrics": (per_event["tracing off"] - per_event["observability off"]) / on,
        "observability": (per_event["observability on"] - per_event["observability off"]) / on,
    }
    figures["shareOfPlatformCpu"] = {name: round(share, 3) for name, share in shares.items()}
    print(
        "share of the platform process's CPU per event (on against off): "
        + ", ".join(f"{name} {share:.0%}" for name, share in shares.items())
        + " (target: observability <= 15%)"
    )
    accepted = figures["observability on"]["events"]["accepted_per_s"]
    print(
        f"target >= 10k accepted events/s with the catch-all trigger delivering: {accepted:,}/s "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )


def platform_us(run: dict[str, Any]) -> float:
    """The platform process's CPU per accepted event, in µs."""
    accepted: int = max(run["events"]["accepted"], 1)
    return float(run["eventsCpuSeconds"].get("platform", 0.0)) / accepted * 1e6


async def main(args: argparse.Namespace) -> dict[str, Any]:
    if shutil.which("wrk") is None and not (args.hop or args.reports):
        raise SystemExit("bench_platform.py needs wrk: apt-get install wrk (make bench does)")
    if args.hop:
        return {"hop": await hop_run(args)}
    if args.reports:
        return {"reports": await reports_run(args)}
    figures: dict[str, Any] = {"standalone": await standalone_run(args)}
    if args.baseline is not None:
        figures["baseline"] = await compare(args)
        return figures
    for mode in MODES:
        figures[mode] = await platform_run(args, mode)
    report(figures)
    return figures


async def compare(args: argparse.Namespace) -> dict[str, Any]:
    """This checkout against ``--baseline`` (another checkout with its own .venv), with
    observability on, alternating (ABBA) for ``--rounds`` rounds each: means and new ÷ old."""
    runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
    trees = {"old": args.baseline.resolve(), "new": ROOT}
    for index in range(args.rounds):
        order = ("old", "new") if index % 2 == 0 else ("new", "old")
        for name in order:
            env = dict(item.split("=", 1) for item in args.baseline_env) if name == "old" else {}
            run = await platform_run(args, "observability on", trees[name], env)
            runs[name].append(run)
            events = run["events"]
            print(
                f"round {index + 1} {name}: accepted {events['accepted_per_s']:,}/s, delivered "
                f"{events['delivered_per_s']:,}/s, CPU us/event {run['eventsCpuUsPerEvent']}",
                flush=True,
            )
    figures: dict[str, Any] = {"runs": runs}
    for label, value in (
        ("accepted/s", lambda r: r["events"]["accepted_per_s"]),
        ("delivered/s", lambda r: r["events"]["delivered_per_s"]),
        ("platform us/event", platform_us),
        ("audit us/event", lambda r: r["eventsCpuUsPerEvent"].get("function audit", 0)),
        ("saga completions/s", lambda r: r["orders"]["completions_per_s"]),
    ):
        old = sum(value(r) for r in runs["old"]) / len(runs["old"])
        new = sum(value(r) for r in runs["new"]) / len(runs["new"])
        figures[label] = {"old": round(old, 1), "new": round(new, 1)}
        print(f"{label}: old {old:,.1f}, new {new:,.1f}, new/old {new / max(old, 1e-9):.2f}x")
    for name in ("old", "new"):
        splits = [
            r["platformSplitUsPerEvent"] for r in runs[name] if "platformSplitUsPerEvent" in r
        ]
        if splits:
            parts = sorted({part for split in splits for part in split})
            mean = {
                part: round(sum(s.get(part, 0) for s in splits) / len(splits)) for part in parts
            }
            figures[f"{name} platform split us/event"] = mean
            print(f"{name}: the platform's CPU per event by part (py-spy), us: {mean}")
    print(f"load average {os.getloadavg()} on {os.cpu_count()} CPUs")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the event load")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--orders", type=int, default=40, help="orders through the saga")
    parser.add_argument("--ready-within", type=float, default=900.0, help="seconds")
    parser.add_argument(
        "--profile",
        type=Path,
        help="keep py-spy's samples of the platform and audit under the event load in DIR "
        "(default: sampled into a temporary directory whenever py-spy is installed)",
    )
    parser.add_argument(
        "--no-profile", action="store_true", help="no py-spy samples, so no split by part"
    )
    parser.add_argument(
        "--gil",
        action="store_true",
        help="sample only the thread holding the GIL (py-spy --gil): a worker thread waiting "
        "in C (the span store's SQLite commit) is not counted as busy (ADR 0032)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (with its .venv) to alternate with, observability on",
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds per tree with --baseline")
    parser.add_argument(
        "--baseline-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment of the baseline's runs (e.g. --baseline . --baseline-env "
        "BULUT_TRACES_PER_SECOND=0: this checkout with a setting changed)",
    )
    parser.add_argument("--builds-dir", type=Path, help="function environments (default: cache)")
    parser.add_argument(
        "--hop",
        action="store_true",
        help="only the delivery's hop to a local function through the gateway: over a "
        "loopback socket against in-process (ADR 0029), alternating for --rounds",
    )
    parser.add_argument(
        "--reports",
        action="store_true",
        help="only the control plane's CPU per Revision runtime report (picture, Active, "
        "scale) with the sample app; --baseline alternates with another checkout (ADR 0032)",
    )
    parser.add_argument("--reports-once", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.reports_once:  # one measurement in this process (what --reports runs)
        print(json.dumps(asyncio.run(reports_once(arguments.reports_once))))
        raise SystemExit(0)
    before = [round(value, 2) for value in os.getloadavg()]
    scratch = None
    if arguments.no_profile or py_spy() is None:
        arguments.profile = None
    elif arguments.profile is None:
        arguments.profile = scratch = Path(tempfile.mkdtemp(prefix="bench-platform-profile-"))
    try:
        results = asyncio.run(main(arguments))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    if os.environ.get("BULUT_BENCH_RUN"):  # under `make bench` (python -m bench.…)
        from bench.history import record

        record("platform", results, before)
