"""`bulut events` against a real broker process: send, get, dead letters, redeliver, tail."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
import typer
from typer.testing import CliRunner

from bulut.cli import events, main
from tests.support.eventing import broker, trigger
from tests.support.network import answers, free_port
from tests.support.waiting import eventually_blocking

pytestmark = pytest.mark.integration

CLI = (
    "import typer\n"
    "from bulut.cli import events\n"
    "app = typer.Typer()\n"
    "@app.callback()\n"
    "def root() -> None: ...\n"
    "app.add_typer(events.group(), name='events')\n"
    "app()\n"
)


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """Test root."""

    app.add_typer(events.group(), name="events")
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
    eventually_blocking(lambda: answers(f"http://127.0.0.1:{port}/default/default"), "the broker")
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

    def delivery_ended() -> dict[str, Any] | None:
        shown = runner.invoke(app, ["events", "get", "o-1", "-o", "json"])
        assert shown.exit_code == 0, shown.output
        (item,) = json.loads(shown.output)
        return item if item["deliveries"] and not item["inFlight"] else None

    item = eventually_blocking(delivery_ended, "the delivery of o-1 to end")
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


def test_send_refuses_data_that_is_not_json_in_one_line_naming_the_flag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["bulut", "events", "send", "--type", "t", "--data", "{oops"])
    with pytest.raises(SystemExit) as exited:
        main.run()  # the console script's entry point, as a user runs it
    assert exited.value.code == 2
    shown = capsys.readouterr()
    assert shown.err.startswith("error: --data is not JSON: ")
    assert shown.err.count("\n") == 1 and shown.out == ""


def test_tail_shows_events_and_deliveries_as_they_happen(runtime: int) -> None:
    env = {**os.environ, "COLUMNS": "200"}
    tail = subprocess.Popen(
        [sys.executable, "-c", CLI, "events", "tail"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    broker_url = f"http://127.0.0.1:{runtime}/default/default"
    shown: list[str] = []
    try:
        assert tail.stdout is not None
        assert "TIME" in tail.stdout.readline()
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_read_into, args=(tail.stdout, lines), daemon=True).start()

        def printed(event_id: str) -> list[str]:
            while not lines.empty():
                shown.append(lines.get())
            return [line for line in shown if event_id in line]

        def attached() -> list[str]:
            httpx.post(broker_url, headers=_headers("probe"))  # until the tail shows one
            return printed("probe")

        eventually_blocking(attached, "the tail to attach", interval=0.2)
        httpx.post(broker_url, headers=_headers("live-1"))

        def event_and_delivery() -> list[str]:
            found = printed("live-1")
            return found if len(found) >= 2 else []

        event, delivery = eventually_blocking(event_and_delivery, "live-1 and its delivery")[:2]
    finally:
        tail.terminate()
        tail.wait(timeout=10)
    assert "EVENT" in event
    assert "FAILED" in delivery and "default/orders" in delivery


def _read_into(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def _headers(event_id: str) -> dict[str, str]:
    return {"ce-specversion": "1.0", "ce-id": event_id, "ce-source": "/t", "ce-type": "t"}
