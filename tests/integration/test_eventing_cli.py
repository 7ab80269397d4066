"""`bulut events` against a real broker process: send, get, dead letters, redeliver, tail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from bulut.cli import events
from tests.conftest import free_port
from tests.integration.test_eventing_support import broker, trigger

pytestmark = pytest.mark.integration

CLI = (
    "import typer\n"
    "from bulut.cli import events\n"
    "app = typer.Typer()\n"
    "@app.callback()\n"
    "def root() -> None: ...\n"
    "events.register(app)\n"
    "app()\n"
)


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """Test root."""

    events.register(app)
    return app


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """A standalone broker whose only trigger points at a closed port (every delivery fails)."""
    port = free_port()
    resources = tmp_path / "resources.json"
    dead_end = f"http://127.0.0.1:{free_port()}/"
    resources.write_text(json.dumps([broker(), trigger("orders", dead_end, delivery={"retry": 0})]))
    process = subprocess.Popen(
        [sys.executable, "-m", "bulut.eventing.standalone", "--resources", str(resources),
         "--state-dir", str(tmp_path / "state"), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            httpx.options(f"http://127.0.0.1:{port}/default/default")
            break
        except httpx.TransportError:
            time.sleep(0.02)
    for name in ("BULUT_DATA_PORT", "BULUT_CONTROL_PORT"):
        monkeypatch.setenv(name, str(port))
    monkeypatch.setenv("BULUT_HOST", "127.0.0.1")
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_send_get_dead_letters_and_redeliver(runtime: int) -> None:
    runner = CliRunner()
    app = _app()
    sent = runner.invoke(
        app, ["events", "send", "--type", "order.created", "--data", '{"n": 1}', "--id", "o-1"]
    )
    assert sent.exit_code == 0, sent.output
    assert "o-1 accepted by broker default/default" in sent.output
    time.sleep(0.3)

    shown = runner.invoke(app, ["events", "get", "o-1", "-o", "json"])
    assert shown.exit_code == 0, shown.output
    (item,) = json.loads(shown.output)
    assert item["deliveries"][0]["outcome"] == "failed"
    assert item["attributes"]["type"] == "order.created"
    table = runner.invoke(app, ["events", "get", "o-1"])
    assert "default/orders" in table.output and "failed" in table.output

    letters = runner.invoke(app, ["events", "dead-letters", "--trigger", "default/orders"])
    assert letters.exit_code == 0
    assert "o-1" in letters.output

    again = runner.invoke(app, ["events", "redeliver", "o-1"])
    assert again.exit_code == 0, again.output
    assert "redelivering to default/orders" in again.output

    missing = runner.invoke(app, ["events", "get", "nope"])
    assert missing.exit_code != 0


def test_send_refuses_data_that_is_not_json(runtime: int) -> None:
    result = CliRunner().invoke(_app(), ["events", "send", "--type", "t", "--data", "{oops"])
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception)


def test_tail_shows_events_and_deliveries_as_they_happen(runtime: int) -> None:
    env = {**os.environ, "COLUMNS": "200"}
    tail = subprocess.Popen(
        [sys.executable, "-c", CLI, "events", "tail"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        assert tail.stdout is not None
        assert "TIME" in tail.stdout.readline()
        time.sleep(0.5)  # let the stream attach
        headers = {"ce-specversion": "1.0", "ce-id": "live-1", "ce-source": "/t", "ce-type": "t"}
        httpx.post(f"http://127.0.0.1:{runtime}/default/default", headers=headers)
        lines = [tail.stdout.readline(), tail.stdout.readline()]
    finally:
        tail.terminate()
        tail.wait(timeout=10)
    assert "EVENT" in lines[0] and "live-1" in lines[0]
    assert "FAILED" in lines[1] and "default/orders" in lines[1]
