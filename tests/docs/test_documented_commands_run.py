"""Every ```sh block of the documentation, run as written against a platform it starts.

The test makes a fresh clone (the repository's files linked into a temporary folder, with
its own HOME and KUBECONFIG), runs the documentation's ```sh platform block (`make up`) on
free ports, and then every ```sh block in document order (README, docs/, folder READMEs,
runbooks), each with `bash -e -o pipefail`: a block passes when every command in it
succeeds. Ports are never edited into the text: `bulut up` writes the kubeconfig context
`bulut`, every `bulut` command reads it, and `curl` on the PATH is
tests/docs/curl_through_context.py, which sends the documented default addresses where the
context says. A later ```sh platform block restarts the platform (a runbook's "start the
platform"); a block that restores state first stops it (the runbooks' precondition).
``console`` blocks also compare what they print with the output the document shows
(``...`` matches anything).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from bulut.kubeconfig import load_context
from tests.support.waiting import eventually_blocking

from .blocks import REPO, Block, shell_blocks

# One worker runs every block, in document order, against the one platform it started.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.timeout(3600),
    pytest.mark.xdist_group("documented-commands"),
]

BLOCK_SECONDS = 600.0
READY_SECONDS = 900.0
SKIPPED_ENTRIES = frozenset({".git", ".bulut", "backups", ".pytest_cache", ".mypy_cache",
                             ".ruff_cache", ".hypothesis", "bench"})  # fmt: skip
# What the reader fills in: the value a reader of that page would use.
PLACEHOLDERS = {
    "<LOCATION>": "backups/",
    "<BACKUP ID>": "$(ls backups | sort | tail -1)",
    "<PATH>": "shop-dev/payments/provider",
    "<NEW KEY FILE>": "new-backup.key",
}


@dataclass
class Clone:
    """A fresh clone with its own home, and the platform `make up` runs in it."""

    root: Path
    env: dict[str, str]
    platform: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    restarts: list[str] = field(default_factory=list)

    def start(self, block: Block) -> None:
        """Run the platform block (`make up`) on free ports; wait until it answers."""
        self.stop()
        self.log = self.root / f"platform-{len(self.restarts)}.log"
        env = {**self.env, "BULUT_DATA_PORT": "0", "BULUT_CONTROL_PORT": "0"}
        with self.log.open("wb") as out:
            self.platform = subprocess.Popen(
                ["bash", "-e", "-c", block.script()],
                cwd=self.root, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.restarts.append(block.where)
        self.wait_ready()

    def wait_ready(self) -> None:
        """Until the context exists and every Service of the control plane is Ready."""

        def ready() -> bool:
            assert self.platform is not None and self.platform.poll() is None, self.tail()
            context = load_context(paths=[Path(self.env["KUBECONFIG"])])
            if context is None or "Ctrl-C stops everything" not in self.tail():
                return False
            url = context.platform.server + "/apis/serving.knative.dev/v1/services"
            services = httpx.get(url, timeout=5).json()["items"]
            return bool(services) and all(_ready(s) for s in services)

        eventually_blocking(
            ready, "every Service of the platform to be Ready", timeout=READY_SECONDS, interval=0.1
        )

    def stop(self) -> None:
        if self.platform is not None and self.platform.poll() is None:
            os.killpg(self.platform.pid, signal.SIGINT)  # Ctrl-C, as the reader stops it
            try:
                self.platform.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.platform.pid, signal.SIGKILL)
                self.platform.wait()
        self.platform = None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log else ""

    def run(self, block: Block) -> subprocess.CompletedProcess[str]:
        script = block.script()
        for placeholder, value in PLACEHOLDERS.items():
            script = script.replace(placeholder, value)
        return subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=self.root, env=self.env, capture_output=True, text=True,
            timeout=BLOCK_SECONDS, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip


def _ready(service: dict[str, object]) -> bool:
    status = service.get("status") or {}
    conditions = status.get("conditions", []) if isinstance(status, dict) else []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clone]:
    # The clone shares the repository's .venv: bring it up to date first, so `make up`
    # in the clone does not re-sync it while other tests import from it.
    subprocess.run(["make", "--no-print-directory", "install"], cwd=REPO, check=True)
    root = tmp_path_factory.mktemp("clone")
    for entry in REPO.iterdir():
        if entry.name not in SKIPPED_ENTRIES and not entry.name.startswith(".bulut"):
            (root / entry.name).symlink_to(entry)
    home = tmp_path_factory.mktemp("home")
    shims = tmp_path_factory.mktemp("shims")
    (shims / "curl").write_text(
        f'#!/bin/sh\nexec {sys.executable} {REPO / "tests/docs/curl_through_context.py"} "$@"\n'
    )
    (shims / "curl").chmod(0o755)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BULUT_", "PYTEST_", "COV_")) and key != "KUBECONFIG"
    }
    env.update(
        HOME=str(home),
        KUBECONFIG=str(home / ".kube" / "config"),
        XDG_CACHE_HOME=os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
        PATH=f"{shims}:{REPO / '.venv' / 'bin'}:{os.environ['PATH']}",
        DOCS_REAL_CURL=shutil.which("curl") or "/usr/bin/curl",
        PYTHONPATH=str(REPO / "platform" / "src"),
        COLUMNS="200",
    )
    running = Clone(root, env)
    yield running
    running.stop()


def _shows(output: str, expected: str) -> bool:
    """``expected`` is in ``output`` (``...`` matches anything; JSON spacing is ignored)."""
    parts = re.split(r"\{\.\.\.\}|\.\.\.", re.sub(r"\s+", "", expected))
    pattern = ".*?".join(re.escape(part) for part in parts)
    return re.search(pattern, re.sub(r"\s+", "", output), re.DOTALL) is not None


RUN = [b for b in shell_blocks() if b.runs_here or "platform" in b.markers]


def test_the_documentation_starts_the_platform_first() -> None:
    assert RUN and "platform" in RUN[0].markers, RUN[0].where
    for block in RUN:
        if "platform" in block.markers:
            assert [c[:2] for c in block.commands()] == [["make", "up"]], block.where


@pytest.mark.parametrize("block", RUN, ids=[b.where for b in RUN])
def test_the_documented_block_runs_as_written(clone: Clone, block: Block) -> None:
    if "platform" in block.markers:
        clone.start(block)
        return
    if clone.platform is None or clone.platform.poll() is not None:
        pytest.fail(f"{block.where}: the platform is not running:\n{clone.tail()}")
    if any(words[:3] == ["bulut", "dr", "restore"] for words in block.commands()):
        clone.stop()  # the runbook's precondition: the platform is stopped
    result = clone.run(block)
    assert result.returncode == 0, (
        f"{block.where} exited {result.returncode}\n{block.script()}\n"
        f"stdout: {result.stdout[-3000:]}\nstderr: {result.stderr[-3000:]}"
    )
    if block.language == "console":  # the output shown, at the context's ports
        context = load_context(paths=[Path(clone.env["KUBECONFIG"])])
        assert context is not None and context.platform.data_url is not None
        data = context.platform.data_url.rsplit(":", 1)[1]
        control = context.platform.server.rsplit(":", 1)[1]
        shown = [
            line.replace(":8080", f":{data}").replace(":8081", f":{control}")
            for line in block.output()
        ]
        missing = [line for line in shown if not _shows(result.stdout, line)]
        assert missing == [], f"{block.where}: the output lacks {missing}\n{result.stdout}"
