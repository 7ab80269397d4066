"""`bulut func build` and `bulut func test` with real environments built by uv."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bulut.cli.main import build_app
from tests.support.projects import kn_func_project

pytestmark = pytest.mark.integration

runner = CliRunner()


def test_build_prints_the_environment_path(tmp_path: Path) -> None:
    folder = kn_func_project(tmp_path / "src", "hello")
    args = ["func", "build", str(folder), "--builds-dir", str(tmp_path / "builds")]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.parent == (tmp_path / "builds").resolve()
    assert (path / "bin" / "python").is_file()


def test_test_runs_the_function_tests_and_exits_with_pytests_code(tmp_path: Path) -> None:
    folder = kn_func_project(tmp_path / "src", "hello")
    (folder / "tests").mkdir()
    (folder / "tests" / "test_func.py").write_text(
        "from function import new\n\n"
        "def test_new_builds_an_instance():\n    assert new() is not None\n\n"
        "def test_fails_on_purpose():\n    assert False\n"
    )
    state = ["--builds-dir", str(tmp_path / "builds")]
    app = build_app()
    passing = runner.invoke(app, ["func", "test", str(folder), *state, "--", "-k", "new_builds"])
    failing = runner.invoke(app, ["func", "test", str(folder), *state])
    assert passing.exit_code == 0
    assert failing.exit_code == 1
