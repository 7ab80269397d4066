"""`bulut func`: list, build, test and invoke, run through the real command tree."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bulut.cli.func import group as func_group
from bulut.cli.main import build_app
from bulut.errors import FunctionProjectError, InvalidInputError

from tests.support.projects import gff_project, kn_func_project
from tests.support.recorders import EchoServer, serve

runner = CliRunner()

@pytest.fixture
def echo() -> Iterator[EchoServer]:
    yield from serve()


@pytest.fixture
def silent() -> Iterator[EchoServer]:
    yield from serve(reply=False)


def test_the_func_group_has_run_beside_its_own_commands() -> None:
    result = runner.invoke(func_group(), ["--help"])
    assert result.exit_code == 0, result.output
    for command in ("build", "test", "invoke", "list", "prune", "run"):
        assert command in result.output


def test_list_shows_name_flavour_and_path(tmp_path: Path) -> None:
    kn_func_project(tmp_path, "hello")
    gff_project(tmp_path, "greeter")
    result = runner.invoke(build_app(), ["func", "list", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "FLAVOUR", "PATH"]
    assert lines[1].split()[:2] == ["greeter", "functions-framework"]
    assert lines[2].split()[:2] == ["hello", "cloudevents"]


def test_invoke_sends_kn_func_invoke_defaults_in_binary_mode(echo: EchoServer) -> None:
    url = f"http://127.0.0.1:{echo.port}/"
    result = runner.invoke(build_app(), ["func", "invoke", "--url", url])
    assert result.exit_code == 0, result.output
    [(headers, body)] = echo.requests
    assert headers["ce-type"] == "boson.fn"
    assert headers["ce-source"] == "/boson/fn"
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-id"]
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"message": "Hello World"}
    assert "com.example.echoed" in result.output
    assert '"message": "Hello World"' in result.output


def test_invoke_takes_type_source_id_data_and_headers(echo: EchoServer) -> None:
    args = ["func", "invoke", "--url", f"http://127.0.0.1:{echo.port}/", "--type", "t.x"]
    args += ["--source", "/me", "--id", "42", "--data", '{"n": 1}', "-H", "X-Trace: abc"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    [(headers, body)] = echo.requests
    assert (headers["ce-type"], headers["ce-source"], headers["ce-id"]) == ("t.x", "/me", "42")
    assert headers["x-trace"] == "abc"
    assert json.loads(body) == {"n": 1}


def test_invoke_structured_sends_the_event_in_the_body(echo: EchoServer) -> None:
    args = ["func", "invoke", "--url", f"http://127.0.0.1:{echo.port}/", "--structured"]
    assert runner.invoke(build_app(), args).exit_code == 0
    [(headers, body)] = echo.requests
    assert headers["content-type"].startswith("application/cloudevents+json")
    document = json.loads(body)
    assert (document["type"], document["data"]) == ("boson.fn", {"message": "Hello World"})


def test_invoke_reports_an_answer_without_a_reply_event(silent: EchoServer) -> None:
    result = runner.invoke(
        build_app(), ["func", "invoke", "--url", f"http://127.0.0.1:{silent.port}/"]
    )
    assert result.exit_code == 0
    assert "HTTP 204" in result.output and "no reply event" in result.output


def test_invoke_of_a_folder_goes_to_its_route_on_the_data_plane(
    echo: EchoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULUT_DATA_PORT", str(echo.port))
    folder = kn_func_project(tmp_path, "hello")
    result = runner.invoke(build_app(), ["func", "invoke", str(folder)])
    assert result.exit_code == 0, result.output
    [(headers, _)] = echo.requests
    assert headers["host"] == f"hello.default.localhost:{echo.port}"


def test_invoke_refuses_data_that_is_not_json(echo: EchoServer) -> None:
    args = ["func", "invoke", "--url", f"http://127.0.0.1:{echo.port}/", "--data", "{nope"]
    result = runner.invoke(build_app(), args)
    assert isinstance(result.exception, InvalidInputError)
    assert result.exception.field == "--data"
    assert echo.requests == []


def test_invoke_sends_text_when_asked(echo: EchoServer) -> None:
    args = ["func", "invoke", "--url", f"http://127.0.0.1:{echo.port}/"]
    args += ["--data", "hi there", "--content-type", "text/plain"]
    runner.invoke(build_app(), args)
    [(headers, body)] = echo.requests
    assert (headers["content-type"], body) == ("text/plain", b"hi there")


def test_build_of_a_folder_that_is_not_a_function_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(build_app(), ["func", "build", str(tmp_path)])
    assert isinstance(result.exception, FunctionProjectError)


def test_prune_lists_what_it_would_free_and_then_frees_it(tmp_path: Path) -> None:
    builds = tmp_path / "builds"
    (builds / "orphan-0123456789ab").mkdir(parents=True)
    (builds / "orphan-0123456789ab" / "big").write_bytes(b"\0" * 3 * 2**20)
    args = ["func", "prune", "--builds-dir", str(builds)]

    looked = runner.invoke(build_app(), [*args, "--dry-run"])
    assert looked.exit_code == 0, looked.output
    assert "orphan-0123456789ab" in looked.stdout and "unfinished build" in looked.stdout
    assert "would free 3 MiB" in looked.stdout and (builds / "orphan-0123456789ab").is_dir()

    pruned = runner.invoke(build_app(), args)
    assert "freed 3 MiB" in pruned.stdout and not (builds / "orphan-0123456789ab").exists()
    assert "nothing to prune" in runner.invoke(build_app(), args).stdout
