"""Benchmark: the control plane as a Kubernetes API, beside the previous REST routes, same run.

Starts two control planes as subprocesses on loopback, each with its own SQLite state:

- **new**: this checkout (``bulut.controlplane`` serving the Kubernetes API);
- **old**: the same package from a git worktree at ``--base`` (default: the commit before
  issue #14's API, ``e59b926``), made with ``git worktree add --detach`` on first use.

First, with one Service stored, 100 concurrent watchers on its namespace: time from a PATCH
until all 100 have received the MODIFIED event (the old route re-reads the whole store for
every new watcher, so with a full store most of its time goes to subscribing; measured on
a small store, the figure is the fan-out itself). Then both get 1,000 Knative Services in
ten namespaces (through ``/apis/bulut.dev/v1/apply``, which both serve) and, alternating
old and new each round:

1. list the 1,000 Services across namespaces as JSON (``<ServiceList>``);
2. list them as a Table (``Accept: …;as=Table``).

Finally ``kubectl apply -k gitops/overlays/dev`` end to end against the new one (the old one
cannot serve kubectl: no discovery). Prints medians of ``--rounds`` and the old/new ratio.

Run: ``.venv/bin/python bench/bench_controlplane.py`` (about two minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SERVER = """
import sys, uvicorn
from pathlib import Path
from bulut.controlplane import ControlPlane
from bulut.settings import Settings
state, port = Path(sys.argv[1]), int(sys.argv[2])
settings = Settings(state_dir=state, functions_dir=state, control_port=port)
uvicorn.run(ControlPlane(settings, check_images=False).app, host="127.0.0.1", port=port,
            log_level="warning", lifespan="on")
"""
SERVICES = "/apis/serving.knative.dev/v1/services"
WATCHED = "/apis/serving.knative.dev/v1/namespaces/watch/services"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service(name: str, namespace: str) -> dict[str, object]:
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {"template": {"spec": {"containers": [{"image": "hello"}]}}},
    }


def base_tree(commit: str) -> Path:
    """A worktree of ``commit`` beside this checkout (made once)."""
    tree = ROOT.parent / f"{ROOT.name}-bench-base-{commit[:7]}"
    if not (tree / "platform" / "src" / "bulut").is_dir():
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit],
            check=True,
            capture_output=True,
        )
    return tree


class Plane:
    """One control plane subprocess."""

    def __init__(self, label: str, source: Path, state: Path) -> None:
        self.label = label
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(source)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(state), str(self.port)], env=env
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"{label} control plane did not start")
            time.sleep(0.1)

    def seed(self, count: int) -> None:
        with httpx.Client(base_url=self.url, timeout=300) as client:
            for start in range(0, count, 100):
                namespace = f"bench-{start // 100}"
                documents = [service(f"s{i:04d}", namespace) for i in range(start, start + 100)]
                client.post("/apis/bulut.dev/v1/apply", json={"documents": documents})

    def seed_watched(self) -> None:
        documents = [service("w", "watch")]
        httpx.post(f"{self.url}/apis/bulut.dev/v1/apply", json={"documents": documents}, timeout=60)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def timed(call: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def list_once(plane: Plane, accept: str, expected: int) -> Callable[[], object]:
    client = httpx.Client(base_url=plane.url, timeout=60, headers={"Accept": accept})

    def run() -> None:
        body = client.get(SERVICES).json()
        found = len(body.get("rows", body.get("items", [])))
        assert found == expected, f"{plane.label}: {found} of {expected}"

    return run


async def fan_out(plane: Plane, watchers: int, new_api: bool) -> float:
    """Seconds from one PATCH until every watcher has its MODIFIED event."""
    marker = str(time.monotonic_ns())
    limits = httpx.Limits(max_connections=watchers + 10)
    async with httpx.AsyncClient(base_url=plane.url, timeout=60, limits=limits) as client:
        version = (await client.get(WATCHED)).json()["metadata"].get("resourceVersion", "")
        params = {"watch": "true"}
        if new_api and version:
            params["resourceVersion"] = version
        subscribed = [asyncio.Event() for _ in range(watchers)]
        received: list[float] = []

        async def watch(ready: asyncio.Event) -> None:
            # The old route cannot resume from a version: it lists first (ADDED), so a
            # watcher is ready once that arrived; the new one subscribes before answering.
            async with client.stream("GET", WATCHED, params=params) as stream:
                if new_api:
                    ready.set()
                async for line in stream.aiter_lines():
                    if '"ADDED"' in line:
                        ready.set()
                    if marker in line and '"MODIFIED"' in line:
                        received.append(time.perf_counter())
                        return

        tasks = [asyncio.create_task(watch(ready)) for ready in subscribed]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in subscribed)), timeout=120)
        headers = {
            "Content-Type": "application/merge-patch+json" if new_api else "application/json"
        }
        started = time.perf_counter()
        await client.patch(
            f"{WATCHED}/w",
            content=f'{{"metadata":{{"labels":{{"m":"{marker}"}}}}}}',
            headers=headers,
        )
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
        return max(received) - started


def kubectl_apply(plane: Plane, home: Path) -> float:
    kubectl = ROOT / ".venv" / "bin" / "kubectl"
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    started = time.perf_counter()
    done = subprocess.run(
        [str(kubectl), "--server", plane.url, "apply", "-k", str(ROOT / "gitops/overlays/dev")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="e59b926", help="commit of the old routes")
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    load_before = [round(value, 2) for value in os.getloadavg()]
    old_source = base_tree(args.base) / "platform" / "src"
    with tempfile.TemporaryDirectory() as scratch:
        old = Plane("old", old_source, Path(scratch, "old"))
        new = Plane("new", ROOT / "platform" / "src", Path(scratch, "new"))
        try:
            fan: dict[str, list[float]] = {"old": [], "new": []}
            for plane in (old, new):
                plane.seed_watched()
            for _ in range(args.rounds):
                for plane in (old, new):
                    fan[plane.label].append(
                        asyncio.run(fan_out(plane, args.watchers, plane is new))
                    )
            for plane in (old, new):
                started = time.perf_counter()
                plane.seed(args.services)
                print(
                    f"seeded {args.services} Services into {plane.label} in "
                    f"{time.perf_counter() - started:.1f} s"
                )
            results: dict[str, dict[str, list[float]]] = {"old": {}, "new": {}}
            for _ in range(args.rounds):
                for plane in (old, new):
                    row = results[plane.label]
                    row.setdefault("list JSON", []).append(
                        timed(list_once(plane, "application/json", args.services + 1), 3)
                    )
                    row.setdefault("list Table", []).append(
                        timed(list_once(plane, TABLE, args.services + 1), 3)
                    )
            results["old"][f"watch fan-out x{args.watchers}"] = fan["old"]
            results["new"][f"watch fan-out x{args.watchers}"] = fan["new"]
            print(f"\n{'operation':<24}{'old (ms)':>12}{'new (ms)':>12}{'old/new':>10}")
            figures: dict[str, dict[str, float]] = {}
            for name in results["new"]:
                before = statistics.median(results["old"][name]) * 1000
                after = statistics.median(results["new"][name]) * 1000
                print(f"{name:<24}{before:>12.1f}{after:>12.1f}{before / after:>10.2f}")
                figures[name] = {
                    "old_ms": round(before, 1),
                    "new_ms": round(after, 1),
                    "ratio_old_to_new": round(before / after, 2),
                }
            home = Path(scratch, "home")
            home.mkdir()
            first = kubectl_apply(new, home)
            again = kubectl_apply(new, home)
            print(
                f"\nkubectl apply -k gitops/overlays/dev (new only; the old routes serve no "
                f"discovery): first {first:.2f} s, again (all unchanged) {again:.2f} s"
            )
            figures["kubectl apply"] = {"first_s": round(first, 2), "again_s": round(again, 2)}
            if os.environ.get("BULUT_BENCH_RUN"):  # under `make bench` (python -m bench.…)
                from bench.history import record

                record("controlplane", figures, load_before)
        finally:
            old.close()
            new.close()


if __name__ == "__main__":
    main()
