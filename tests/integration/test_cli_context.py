"""The CLI finds the platform through its context: `bulut up` on any ports writes the
kubeconfig context `bulut`, and every command then reaches it with no flag and no BULUT_*
variable, in the context's namespace (#21: `bulut get ksvc -A` after `bulut up
--control-port 38081` failed with `not reachable at ...:8081`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bulut.kubeconfig import load_context
from tests.support.waiting import eventually_blocking

pytestmark = pytest.mark.integration

BULUT = str(Path(sys.executable).parent / "bulut")
REPO = Path(__file__).resolve().parents[2]
BROKER = """\
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: default, namespace: team-a}
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No BULUT_* variable, a kubeconfig of the test's own."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BULUT_")}
    return {**clean, "KUBECONFIG": str(tmp_path / "kube" / "config"), "COLUMNS": "200"}


@pytest.fixture
def platform(tmp_path: Path, env: dict[str, str]) -> Iterator[Path]:
    """`bulut up` on ports the kernel picks, without the sample app, until the test ends."""
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [BULUT, "up", "--no-sample", "--data-port", "0", "--control-port", "0",
             "--state-dir", str(tmp_path / "state")],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    kubeconfig = Path(env["KUBECONFIG"])

    def started() -> bool:
        assert process.poll() is None, log.read_text()
        return b"Ctrl-C stops everything" in log.read_bytes()

    eventually_blocking(started, "bulut up to say it serves", timeout=120)
    yield kubeconfig
    process.send_signal(signal.SIGINT)
    process.wait(60)


def bulut(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [BULUT, *args], env=env, input=stdin, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"bulut {' '.join(args)}: {result.stderr}"
    return result.stdout


def test_bulut_up_writes_the_context_and_commands_find_the_platform_through_it(
    platform: Path, env: dict[str, str]
) -> None:
    context = load_context(paths=[platform])

    assert context is not None and context.name == "bulut" and context.is_bulut
    assert not context.platform.server.endswith(":8081")  # the kernel's port, not the default
    assert "No services found" in bulut(env, "get", "ksvc", "-A")
    shown = bulut(env, "version")
    assert f"server:     {context.platform.server}" in shown
    assert "context:    bulut" in shown
    current = yaml.safe_load(platform.read_text())["current-context"]
    assert current == "bulut"


def test_commands_default_to_the_contexts_namespace_and_take_n(
    platform: Path, env: dict[str, str]
) -> None:
    kubectl = str(Path(sys.executable).parent / "kubectl")
    subprocess.run(  # the context's namespace is team-a from now on, as kubectl sets it
        [kubectl, "config", "set-context", "--current", "--namespace=team-a"],
        env=env, capture_output=True, check=True,
    )  # fmt: skip
    bulut(env, "apply", "-f", "-", stdin=BROKER)

    sent = bulut(env, "events", "send", "--type", "com.example.hello")
    in_default = subprocess.run(
        [BULUT, "events", "send", "--type", "com.example.hello", "-n", "default"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert "accepted by broker team-a/default" in sent
    assert in_default.returncode == 2, in_default.stdout
    assert "default" in in_default.stderr  # no broker default/default: -n was used
    assert bulut(env, "events", "dead-letters").startswith("ID")  # team-a's: none yet
