"""Function environments built for real with uv: once, shared, compiled, rebuilt when broken."""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bulut.errors import BuildError
from bulut.functions.environments import MARKER, ensure_environment, environment_path
from bulut.functions.project import load_project
from tests.support.projects import gff_project, kn_func_project

pytestmark = pytest.mark.integration


def python_says(python: Path, *arguments: str, cwd: Path) -> str:
    completed = subprocess.run(
        [str(python), *arguments], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def test_a_kn_func_environment_is_built_once_and_imports_the_current_code(
    tmp_path: Path,
) -> None:
    project = load_project(kn_func_project(tmp_path / "src"))
    messages: list[str] = []
    environment = ensure_environment(project, tmp_path / "builds", progress=messages.append)
    assert environment.python.is_file()
    assert any(m.startswith("building environment for hello") for m in messages)
    marker = json.loads((environment.root / MARKER).read_text())
    assert marker["key"] == environment.key

    # Packages ship compiled, as in an image: nothing is compiled at a zygote's import.
    # (Checked first, under -B, so that this very import cannot write the bytecode.)
    compiled = (
        "import importlib.util as u, os, func_python, uvicorn; "
        "print(all(os.path.isfile(u.cache_from_source(m.__file__))"
        " for m in (func_python, uvicorn)))"
    )
    assert python_says(environment.python, "-B", "-c", compiled, cwd=tmp_path) == "True"

    check = "import function.func as f, func_python, uvicorn, pytest; print(f.VERSION)"
    assert python_says(environment.python, "-c", check, cwd=tmp_path) == "one"

    func_py = project.path / "function" / "func.py"
    func_py.write_text(func_py.read_text().replace('"one"', '"two"'))
    again: list[str] = []
    started = time.monotonic()
    assert ensure_environment(project, tmp_path / "builds", progress=again.append) == environment
    assert time.monotonic() - started < 0.5
    assert again == []
    assert python_says(environment.python, "-c", check, cwd=tmp_path) == "two"


def test_a_functions_framework_environment_puts_main_on_the_path(tmp_path: Path) -> None:
    project = load_project(gff_project(tmp_path / "src"))
    environment = ensure_environment(project, tmp_path / "builds")
    code = "import main, functions_framework, uvicorn; print(main.VERSION)"
    assert python_says(environment.python, "-c", code, cwd=tmp_path) == "one"


def test_concurrent_callers_share_one_build(tmp_path: Path) -> None:
    project = load_project(kn_func_project(tmp_path / "src"))
    messages: list[str] = []
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [
            pool.submit(ensure_environment, project, tmp_path / "builds", progress=messages.append)
            for _ in range(3)
        ]
        environments = {future.result() for future in futures}
    assert len(environments) == 1
    assert sum(m.startswith("building environment") for m in messages) == 1


def test_an_interrupted_build_is_rebuilt(tmp_path: Path) -> None:
    project = load_project(kn_func_project(tmp_path / "src"))
    root, _ = environment_path(project, tmp_path / "builds")
    (root / "bin").mkdir(parents=True)  # a half-built environment: no marker
    environment = ensure_environment(project, tmp_path / "builds")
    assert (environment.root / MARKER).is_file()
    assert environment.python.is_file()


def test_a_broken_dependency_is_a_build_error_with_the_installer_output(tmp_path: Path) -> None:
    project = load_project(
        kn_func_project(tmp_path / "src", dependencies=("not a valid requirement!!",))
    )
    with pytest.raises(BuildError) as caught:
        ensure_environment(project, tmp_path / "builds")
    message = str(caught.value)
    assert "installing the dependencies of" in message
    assert "not a valid requirement" in message
    root, _ = environment_path(project, tmp_path / "builds")
    assert not (root / MARKER).exists()
