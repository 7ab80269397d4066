"""The developer's loop, timed as users run it: save → new code serving, push → serving.

    .venv/bin/python bench/bench_devloop.py [--edits 20] [--pushes 5] [--restarts 3]

Everything runs as a user runs it, in processes: `bulut up` on free ports, `bulut func deploy
--watch` for the save loop, `bulut up --sync` with `bulut gitops hook` for the push loop.

Figures (all in one run, same machine):
  * save → serving: a function file is written, then the function is called in a tight loop
    until an answer comes from the new code; p50/p99 over ``--edits`` saves, and the
    requests that failed meanwhile (should be 0);
  * baseline: the same edit made by stopping `bulut up`, editing, starting it again and
    deploying (what one does without a watch), over ``--restarts``;
  * baseline: the same save loop with seeds off (``BULUT_ZYGOTE_SEEDS=false``: each new
    revision's zygote a fresh interpreter, ADR 0014), in the same run;
  * push → serving: commit, `git push` to a local bare repository with Bulut's
    post-receive hook, call until the new code answers; p50 over ``--pushes``;
  * baseline: stop `bulut up --sync`, push, start it again, until the new code answers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
BULUT = [sys.executable, "-m", "bulut.cli.main"]
TIMEOUT = 600.0
SERVICE = """\
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: greeter
spec:
  template:
    metadata:
      annotations:
        bulut.dev/function-path: functions/greeter
    spec:
      containers:
        - image: dev.local/greeter
"""


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def git(cwd: Path, *args: str) -> None:
    """Run git quietly, failing loudly."""
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args],
        cwd=cwd, check=True, capture_output=True,
    )  # fmt: skip


def set_version(folder: Path, version: int) -> None:
    """Make the function answer ``{"v": version, ...}``."""
    func = folder / "function" / "func.py"
    text = func.read_text()
    marker = '"path": scope["path"], "v": '
    if marker in text:
        start = text.index(marker) + len(marker)
        end = text.index(",", start)
        text = text[:start] + str(version) + text[end:]
    else:
        text = text.replace('"path": scope["path"],', f'"path": scope["path"], "v": {version},')
    func.write_text(text)


@dataclass
class Platform:
    """`bulut up` in its own process group, with its own ports and state."""

    state_dir: Path
    log: Path
    extra: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    data_port: int = field(default_factory=free_port)
    control_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def environ(self) -> dict[str, str]:
        """What a CLI needs to find this platform."""
        environ = {k: v for k, v in os.environ.items() if not k.startswith("BULUT_")}
        environ.update(
            BULUT_DATA_PORT=str(self.data_port),
            BULUT_CONTROL_PORT=str(self.control_port),
            BULUT_STATE_DIR=str(self.state_dir),
        )
        environ.update(self.extra_env)
        return environ

    def start(self, cwd: Path) -> None:
        """Start it and wait until the control plane answers."""
        command = [*BULUT, "up", "--no-sample", "--no-kubeconfig", *self.extra]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=self.environ,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{self.control_port}/readyz").status_code == 200:
                    return
            if self.process.poll() is not None:
                raise RuntimeError(f"bulut up exited; see {self.log}")
            time.sleep(0.02)
        raise RuntimeError(f"bulut up did not start; see {self.log}")

    def stop(self) -> None:
        """SIGTERM the group (Ctrl-C), SIGKILL after 20 s."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def serving(self, namespace: str) -> Caller:
        """Calls the greeter function through the data plane."""
        return Caller(f"http://127.0.0.1:{self.data_port}/", f"greeter.{namespace}.localhost")


@dataclass
class Caller:
    """Calls a function until it answers with a version; counts failures."""

    url: str
    host: str
    failures: int = 0

    def until_version(self, version: int) -> float:
        """Call in a tight loop until the answer carries ``version``; its time.time()."""
        deadline = time.monotonic() + TIMEOUT
        with httpx.Client(timeout=30, headers={"host": self.host}) as client:
            while time.monotonic() < deadline:
                try:
                    answer = client.post(self.url, content=b"x")
                except httpx.TransportError:
                    self.failures += 1
                    time.sleep(0.005)
                    continue
                if answer.status_code != 200:
                    self.failures += 1
                    time.sleep(0.005)
                    continue
                if answer.json().get("v") == version:
                    return time.time()
        raise RuntimeError(f"version {version} never answered at {self.host}")


def wait_for_line(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    """Until ``text`` appears in a process's log (it says it is ready)."""
    deadline = time.monotonic() + TIMEOUT
    while text not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"no {text!r} in {log}")
        time.sleep(0.01)


def percentile(values: list[float], fraction: float) -> float:
    """The value at ``fraction`` of the sorted values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def save_loop(
    work: Path, edits: int, restarts: int, *, seeds: bool = True
) -> tuple[list[float], int, list[float]]:
    """(save → serving times, failed calls, restart baseline times)."""
    work.mkdir(parents=True)
    project = work / "functions" / "greeter"
    subprocess.run([*BULUT, "func", "create", "greeter", "-t", "http", "--path", str(project)],
                   check=True, capture_output=True)  # fmt: skip
    set_version(project, 0)
    platform = Platform(
        work / "state", work / "up.log", extra_env={"BULUT_ZYGOTE_SEEDS": str(seeds).lower()}
    )
    platform.start(work)
    deploy = [*BULUT, "func", "deploy", str(project), "-n", "bench"]
    watcher: subprocess.Popen[bytes] | None = None
    times: list[float] = []
    caller = platform.serving("bench")
    try:
        subprocess.run(deploy, check=True, capture_output=True, env=platform.environ)
        with (work / "watch.log").open("ab") as log:
            watcher = subprocess.Popen([*deploy, "--watch"], stdout=log, stderr=subprocess.STDOUT,
                                       env=platform.environ, start_new_session=True)  # fmt: skip
        caller.until_version(0)
        wait_for_line(work / "watch.log", "watching", watcher)
        for version in range(1, edits + 1):
            set_version(project, version)
            saved = time.time()
            times.append(caller.until_version(version) - saved)
    finally:
        if watcher is not None:
            os.killpg(watcher.pid, signal.SIGTERM)
            watcher.wait()
        platform.stop()
    baseline: list[float] = []
    for version in range(edits + 1, edits + 1 + restarts):
        edited = time.time()
        set_version(project, version)
        platform.start(work)
        try:
            subprocess.run(deploy, check=True, capture_output=True, env=platform.environ)
            baseline.append(platform.serving("bench").until_version(version) - edited)
        finally:
            platform.stop()
    return times, caller.failures, baseline


def push_loop(work: Path, pushes: int, restarts: int) -> tuple[list[float], list[float]]:
    """(push → serving times, restart baseline times)."""
    clone = work / "clone"
    clone.mkdir(parents=True)
    git(clone, "init", "-q", "-b", "main")
    project = clone / "functions" / "greeter"
    subprocess.run([*BULUT, "func", "create", "greeter", "-t", "http", "--path", str(project)],
                   check=True, capture_output=True)  # fmt: skip
    set_version(project, 0)
    (clone / "deploy").mkdir()
    (clone / "deploy" / "kustomization.yaml").write_text(
        "namespace: shop\nresources: [ksvc.yaml]\n"
    )
    (clone / "deploy" / "ksvc.yaml").write_text(SERVICE)
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "v0")
    bare = work / "origin.git"
    git(work, "clone", "-q", "--bare", str(clone), str(bare))
    git(clone, "remote", "add", "origin", str(bare))
    platform = Platform(
        work / "state-sync", work / "up-sync.log", ["--sync", f"{bare}#main:deploy"]
    )
    platform.start(work)
    times: list[float] = []
    try:
        subprocess.run([*BULUT, "gitops", "hook", "deploy", "--repo", str(bare)],
                       check=True, capture_output=True, env=platform.environ)  # fmt: skip
        caller = platform.serving("shop")
        caller.until_version(0)
        for version in range(1, pushes + 1):
            set_version(project, version)
            git(clone, "commit", "-qam", f"v{version}")
            pushed = time.time()
            git(clone, "push", "-q", "origin", "main")
            times.append(caller.until_version(version) - pushed)
    finally:
        platform.stop()
    baseline: list[float] = []
    for version in range(pushes + 1, pushes + 1 + restarts):
        set_version(project, version)
        git(clone, "commit", "-qam", f"v{version}")
        pushed = time.time()
        git(clone, "push", "-q", "origin", "main")
        platform.start(work)
        try:
            baseline.append(platform.serving("shop").until_version(version) - pushed)
        finally:
            platform.stop()
    return times, baseline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--pushes", type=int, default=5)
    parser.add_argument("--restarts", type=int, default=3)
    args = parser.parse_args()
    load_before = [round(value, 2) for value in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="bench-devloop-") as folder:
        work = Path(folder)
        print(f"load average at start: {os.getloadavg()[0]:.2f}")
        unseeded, _, _ = save_loop(work / "save-unseeded", args.edits, 0, seeds=False)
        saves, failures, save_baseline = save_loop(work / "save", args.edits, args.restarts)
        pushes, push_baseline = push_loop(work / "push", args.pushes, args.restarts)
    print(f"\nsave → new code serving (`bulut func deploy --watch`), {len(saves)} edits:")
    print(f"  p50 {statistics.median(saves):.3f} s   p99 {percentile(saves, 0.99):.3f} s   "
          f"failed requests {failures}")  # fmt: skip
    base = statistics.median(unseeded)
    ratio = base / statistics.median(saves)
    print(f"  baseline, seeds off (BULUT_ZYGOTE_SEEDS=false): p50 {base:.3f} s   "
          f"p99 {percentile(unseeded, 0.99):.3f} s (x{ratio:.1f} slower)")  # fmt: skip
    base = statistics.median(save_baseline)
    print(f"  baseline, stop + edit + `bulut up` + `bulut func deploy`: p50 {base:.2f} s "
          f"(x{base / statistics.median(saves):.1f} slower)")  # fmt: skip
    print(f"\ngit push → new code serving (`bulut up --sync` + `bulut gitops hook`), "
          f"{len(pushes)} pushes:")  # fmt: skip
    print(f"  p50 {statistics.median(pushes):.3f} s   p99 {percentile(pushes, 0.99):.3f} s")
    base = statistics.median(push_baseline)
    print(f"  baseline, stop + push + `bulut up --sync`: p50 {base:.2f} s "
          f"(x{base / statistics.median(pushes):.1f} slower)")  # fmt: skip
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    if os.environ.get("BULUT_BENCH_RUN"):  # under `make bench` (python -m bench.…)
        from bench.history import record

        figures = {
            "save_p50_s": round(statistics.median(saves), 3),
            "save_p99_s": round(percentile(saves, 0.99), 3),
            "save_failed_requests": failures,
            "save_baseline_p50_s": round(statistics.median(save_baseline), 2),
            "push_p50_s": round(statistics.median(pushes), 3),
            "push_p99_s": round(percentile(pushes, 0.99), 3),
            "push_baseline_p50_s": round(statistics.median(push_baseline), 2),
        }
        record("devloop", figures, load_before)


if __name__ == "__main__":
    main()
