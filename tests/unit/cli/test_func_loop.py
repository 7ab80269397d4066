"""`bulut func create` and `bulut func subscribe`, through the real command tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from bulut.cli.main import build_app

runner = CliRunner()


def test_create_writes_a_project_and_says_what_to_run_next(tmp_path: Path) -> None:
    result = runner.invoke(
        build_app(), ["func", "create", "greeter", "-t", "http", "--path", str(tmp_path / "g")]
    )
    assert result.exit_code == 0, result.output
    assert "function/func.py" in result.output
    assert f"bulut func deploy {tmp_path / 'g'}" in result.output
    assert yaml.safe_load((tmp_path / "g" / "func.yaml").read_text())["name"] == "greeter"


def bulut(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real console script, as a user runs it."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BULUT_")}
    return subprocess.run(
        [sys.executable, "-m", "bulut.cli.main", *args],
        capture_output=True, text=True, env={**environ, **(env or {})}, check=False,
    )  # fmt: skip


def test_create_refuses_a_bad_name_with_exit_2_and_one_line(tmp_path: Path) -> None:
    result = bulut("func", "create", "Bad_Name", "--path", str(tmp_path / "x"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: function name 'Bad_Name' must start with a letter")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_subscribe_adds_a_trigger_filter_to_func_yaml(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    assert runner.invoke(build_app(), ["func", "create", "g", "--path", str(folder)]).exit_code == 0
    args = ["func", "subscribe", str(folder), "--filter", "type=com.example.order.created"]
    first = runner.invoke(build_app(), args)
    assert first.exit_code == 0, first.output
    again = runner.invoke(build_app(), args)
    assert "already subscribed" in again.output
    func_yaml = yaml.safe_load((folder / "func.yaml").read_text())
    assert func_yaml["deploy"]["subscriptions"] == [
        {"source": "default", "filters": {"type": "com.example.order.created"}}
    ]


def test_deploy_without_a_platform_says_how_to_start_one(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    runner.invoke(build_app(), ["func", "create", "g", "--path", str(folder)])
    result = bulut("func", "deploy", str(folder), env={"BULUT_CONTROL_PORT": "9"})
    assert result.returncode == 1
    assert "control plane not reachable at http://127.0.0.1:9" in result.stderr
    assert "bulut up" in result.stderr
