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
plus the platform process (its access log and polling) for HAProxy. Needs ``haproxy`` on
PATH (``make bench`` installs it with apt) and wrk (else a Python client).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_broker import cpu_seconds, free_port
from bench.bench_haproxy import alternate, summarise

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
"""


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
        drain.cancel()
        figures = summarise(measured, seconds, 0.0, platform_cpu=True)
        figures.pop("runtime_api_switch_ms", None)
        return figures
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 60)
            except TimeoutError:
                process.kill()
                await process.wait()
        shutil.rmtree(state, ignore_errors=True)


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--python-client", action="store_true", help="never use wrk")
    args = parser.parse_args()
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
