"""The data-plane ingress as users run it: `bulut up --ingress haproxy`, beside its gateway.

    .venv/bin/python -m bench.bench_ingress [--seconds 4] [--rounds 3] [--python-client]

Starts `bulut up --ingress haproxy` (its own free ports, a temporary state dir, no sample
app, tracing and metrics on as by default) serving the trivial kn func http function
(``tests/fixtures/functions/hello``, min-scale 1). In that one platform, alternating each
round: the instance directly (the baseline), Bulut's gateway on its internal port (exactly
what ``--ingress gateway`` puts on the data-plane port: the same router, edge checks,
tracing and metrics) and HAProxy on the data-plane port (the configuration, runtime-API
commands, access log and ``show stat`` polling of ``bulut.serving.kingress``). Reports the
medians of each round's ratio to its own direct run at c=64 (target >= 0.75x), added p50 at
c=1 (target <= 50 us), and CPU per request: the platform process for the gateway; HAProxy
plus the platform process (its access log and polling) for HAProxy. Then (with wrk) the
broker ingress, which HAProxy hands to the gateway: binary JSON events to a Broker at c=64
through the gateway's port and through HAProxy's, alternating, as a ratio. Needs ``haproxy`` on
PATH (``make bench`` installs it with apt) and wrk (else a Python client).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_broker import cpu_seconds, free_port
from bench.bench_haproxy import alternate, rounds_arguments, summarise
from bench.bench_platform import LUA, stop_up

ROOT = Path(__file__).resolve().parent.parent
HELLO_SERVICE = """\
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: hello
  namespace: default
spec:
  template:
    metadata:
      annotations:
        autoscaling.knative.dev/min-scale: "1"
        bulut.dev/function-path: {path}
    spec:
      containers:
        - image: registry.local/hello:latest
---
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: default
  namespace: default
"""


def broker_load(port: int, seconds: float, script: Path) -> float:
    """Events/s wrk gets accepted by the broker at ``port`` (c=64, binary JSON events)."""
    command = ["wrk", "-t1", "-c64", f"-d{round(seconds)}s", "-s", str(script)]
    for header in (
        "ce-specversion: 1.0",
        "ce-source: /bench",
        "ce-type: com.example.bench.ping",
        "content-type: application/json",
    ):
        command += ["-H", header]
    command.append(f"http://127.0.0.1:{port}/default/default")
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in text:
        raise RuntimeError(f"the broker refused events:\n{text}")
    return float(text.split("Requests/sec:")[1].split()[0])


async def broker_rounds(gateway: int, haproxy: int, seconds: float, count: int) -> dict[str, Any]:
    """The broker ingress through the gateway's port and through HAProxy (one hop more),
    alternating; the ratio HAProxy's extra hop leaves."""
    script = Path(tempfile.mkdtemp(prefix="bulut-bench-events-")) / "events.lua"
    script.write_text(LUA)  # bench_platform's events: a new ce-id each
    ratios, rates = [], []
    for number in range(1, count + 1):
        through_gateway = await asyncio.to_thread(broker_load, gateway, seconds, script)
        through_haproxy = await asyncio.to_thread(broker_load, haproxy, seconds, script)
        print(
            f"  broker round {number}/{count}: {through_gateway:.0f} events/s through the"
            f" gateway, {through_haproxy:.0f} through HAProxy then the gateway"
        )
        ratios.append(through_haproxy / through_gateway)
        rates.append((through_gateway, through_haproxy))
    shutil.rmtree(script.parent, ignore_errors=True)
    ratio = statistics.median(ratios)
    print(
        f"  broker ingest through HAProxy: {ratio:.2f}x the gateway's port"
        f" [rounds {', '.join(f'{r:.2f}' for r in ratios)}]"
    )
    return {
        "broker_ratio_haproxy_to_gateway": round(ratio, 3),
        "broker_events_per_s": [[round(g), round(h)] for g, h in rates],
    }


def servers_state(admin: Path) -> dict[str, str]:
    """``backend/server`` -> ``addr:port`` of the servers in use (runtime API)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(admin))
        sock.sendall(b"show servers state\n")
        text = b""
        while chunk := sock.recv(65536):
            text += chunk
    found = {}
    for line in text.decode().splitlines()[2:]:
        cells = line.split()
        if len(cells) > 18 and cells[5] == "2":  # srv_op_state 2: running
            found[f"{cells[1]}/{cells[3]}"] = f"{cells[4]}:{cells[18]}"
    return found


async def platform(seconds: float, use_wrk: bool, count: int) -> dict[str, Any]:
    """`bulut up --ingress haproxy` with the trivial function; the three legs alternating."""
    from bench.bench_dataplane import FUNCTION

    data_port, control_port = free_port(), free_port()
    state = Path(tempfile.mkdtemp(prefix="bulut-bench-ingress-"))
    manifest = state / "hello.yaml"
    manifest.write_text(HELLO_SERVICE.format(path=FUNCTION))
    environ = {**os.environ, "BULUT_FUNCTIONS_DIR": str(FUNCTION.parent)}
    environ.pop("BULUT_BENCH_RUN", None)
    command = [str(ROOT / ".venv" / "bin" / "bulut"), "up", "--no-kubeconfig", "--ingress"]
    command += ["haproxy", "-f", str(manifest), "--state-dir", str(state / "state")]
    command += ["--data-port", str(data_port), "--control-port", str(control_port)]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, env=environ, stdout=asyncio.subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None
    output: list[str] = []
    try:
        while True:
            line = await asyncio.wait_for(process.stdout.readline(), 300)
            if not line:
                raise RuntimeError("bulut up exited:\n" + "".join(output[-20:]))
            output.append(line.decode(errors="replace"))
            if b"Ctrl-C stops everything" in line:
                break
        drain = asyncio.get_running_loop().create_task(_drain(process.stdout))
        folder = state / "state" / "haproxy"
        admin = max(folder.glob("admin-*.sock"), key=lambda p: int(p.stem.split("-")[1]))
        deadline = time.monotonic() + 60
        while True:
            servers = servers_state(admin)
            instance = [a for name, a in servers.items() if name.startswith("rev:default:hello")]
            if instance or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        gateway = int(servers["activator/gateway"].rsplit(":", 1)[1])
        direct = int(instance[0].rsplit(":", 1)[1])
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(admin))
            sock.sendall(b"show info\n")
            info = sock.recv(65536).decode()
        haproxy_pid = int(info.split("Pid: ", 1)[1].split()[0])
        legs = {"direct": direct, "bulut": gateway, "haproxy": data_port}
        print(
            f"bulut up --ingress haproxy: data plane :{data_port} (HAProxy pid {haproxy_pid}),"
            f" gateway behind it :{gateway}, the instance :{direct}"
        )
        measured = await alternate(
            legs,
            lambda: cpu_seconds(process.pid),
            lambda: cpu_seconds(haproxy_pid),
            seconds,
            use_wrk,
            count,
        )
        figures = summarise(measured, seconds, 0.0, platform_cpu=True)
        figures.pop("runtime_api_switch_ms", None)
        if use_wrk:
            figures.update(await broker_rounds(gateway, data_port, seconds, count))
        drain.cancel()
        return figures
    finally:
        await stop_up(process, state)


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


def main() -> None:
    args = rounds_arguments(__doc__)
    if shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists():
        print("skipped: haproxy is not installed (apt-get install haproxy; make bench does)")
        return
    use_wrk = shutil.which("wrk") is not None and not args.python_client
    before = [round(value, 2) for value in os.getloadavg()]
    figures = asyncio.run(platform(args.seconds, use_wrk, args.rounds))
    if os.environ.get("BULUT_BENCH_RUN"):  # under `make bench` (python -m bench.…)
        from bench.history import record

        record("ingress", {**figures, "loadGenerator": "wrk" if use_wrk else "python"}, before)


if __name__ == "__main__":
    main()
