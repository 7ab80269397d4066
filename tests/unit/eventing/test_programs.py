"""Containers as local programs: the catalog's folder, the command line, the environment."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bulut.errors import NotFoundError
from bulut.eventing.programs import plan_program


@pytest.fixture
def functions_dir(tmp_path: Path) -> Path:
    (tmp_path / "heartbeats").mkdir()
    (tmp_path / "heartbeats" / "__main__.py").write_text("print('beat')\n")
    (tmp_path / "plain").mkdir()
    return tmp_path


def test_an_image_runs_the_main_module_of_the_folder_named_after_it(functions_dir: Path) -> None:
    container = {"name": "c", "image": "ghcr.io/acme/heartbeats:2@sha256:ab", "args": ["-v"]}
    program = plan_program(container, {}, functions_dir, {"K_SINK": "http://sink/"})
    folder = (functions_dir / "heartbeats").resolve()
    assert program.argv == (sys.executable, str(folder), "-v")
    assert program.cwd == folder and program.env == {"K_SINK": "http://sink/"}


def test_a_command_runs_as_given_with_python_as_bulut_s_own(functions_dir: Path) -> None:
    container = {
        "image": "plain",
        "command": ["python", "job.py"],
        "workingDir": "/sub",
        "env": [{"name": "A", "value": "1"}, {"name": "S", "valueFrom": {"secretKeyRef": {}}}],
    }
    program = plan_program(container, {}, functions_dir, {"K_SINK": "x"})
    assert program.argv == (sys.executable, "job.py")
    assert program.cwd == (functions_dir / "plain").resolve() / "sub"
    assert program.env == {"A": "1", "K_SINK": "x"}


def test_the_annotation_names_the_folder_first(functions_dir: Path, tmp_path: Path) -> None:
    annotations = {"bulut.dev/function-path": str(functions_dir / "heartbeats")}
    program = plan_program({"image": "anything"}, annotations, functions_dir, {})
    assert program.cwd == (functions_dir / "heartbeats").resolve()


def test_an_image_with_no_folder_or_a_folder_with_nothing_to_run_is_refused(
    functions_dir: Path,
) -> None:
    with pytest.raises(NotFoundError, match="no function or folder named 'missing'"):
        plan_program({"image": "missing"}, {}, functions_dir, {})
    with pytest.raises(NotFoundError, match="has no __main__"):
        plan_program({"image": "plain"}, {}, functions_dir, {})
