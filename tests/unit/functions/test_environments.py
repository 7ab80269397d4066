"""Function environments: keyed by dependencies, built once with uv, safe to share."""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bulut.errors import BuildError
from bulut.functions.environments import (
    FUNC_PYTHON,
    FUNCTIONS_FRAMEWORK,
    MARKER,
    RECIPE,
    Environment,
    ensure_environment,
    environment_key,
    environment_path,
    find_uv,
    prune,
    record_recipe,
    runtime_requirements,
    stale_reason,
    survey,
)
from bulut.functions.project import Flavour, load_project

from .projects import gff_project, kn_func_project


def python_says(python: Path, *arguments: str, cwd: Path) -> str:
    completed = subprocess.run(
        [str(python), *arguments], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


# ---------------------------------------------------------------- keys (pure)


def test_code_changes_do_not_change_the_key(tmp_path: Path) -> None:
    project = load_project(kn_func_project(tmp_path))
    before = environment_key(project)
    (project.path / "function" / "func.py").write_text("VERSION = 'two'\n")
    assert environment_key(project) == before


def test_a_dependency_change_changes_the_key(tmp_path: Path) -> None:
    project = load_project(kn_func_project(tmp_path))
    before = environment_key(project)
    pyproject = project.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("dependencies = []", 'dependencies = ["x"]'))
    assert environment_key(project) != before


def test_the_interpreter_version_is_part_of_the_key(tmp_path: Path) -> None:
    project = load_project(kn_func_project(tmp_path))
    assert environment_key(project, "3.11") != environment_key(project, "3.12")


def test_each_flavour_gets_its_own_runtime_and_the_server_and_test_tools() -> None:
    kn = runtime_requirements(Flavour.CLOUDEVENTS)
    gff = runtime_requirements(Flavour.FUNCTIONS_FRAMEWORK)
    assert FUNC_PYTHON in kn and FUNCTIONS_FRAMEWORK not in kn
    assert FUNCTIONS_FRAMEWORK in gff and FUNC_PYTHON not in gff
    for requirements in (kn, gff):
        assert any(r.startswith("uvicorn[standard]") for r in requirements)
        assert any(r.startswith("pytest-asyncio") for r in requirements)


def test_the_environment_is_named_after_the_function_and_its_key(tmp_path: Path) -> None:
    project = load_project(kn_func_project(tmp_path, "hello"))
    root, key = environment_path(project, tmp_path / "builds")
    assert root == (tmp_path / "builds").resolve() / f"hello-{key[:12]}"


def test_uv_is_found() -> None:
    assert find_uv().name == "uv"


def test_the_platform_records_the_recipe_of_an_environment_it_runs(tmp_path: Path) -> None:
    root = tmp_path / "cache" / "fn-0123456789ab"
    root.mkdir(parents=True)
    (root / MARKER).write_text('{"key": "k1", "project": "/src/fn"}')
    environment = Environment(root=root, python=root / "bin" / "python", key="k1")
    recipe = record_recipe(environment, tmp_path / "state" / "recipes")
    assert recipe == tmp_path / "state" / "recipes" / "fn-0123456789ab" / RECIPE
    assert json.loads(recipe.read_text()) == {"key": "k1", "project": "/src/fn"}
    (root / MARKER).write_text('{"key": "k1", "project": "/src/fn", "buildSeconds": 2}')
    record_recipe(environment, tmp_path / "state" / "recipes")
    assert json.loads(recipe.read_text())["buildSeconds"] == 2
    assert [p.name for p in recipe.parent.iterdir()] == [RECIPE]  # no partial file left


# ---------------------------------------------------------------- real builds


@pytest.mark.integration
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
        "print(all(os.path.isfile(u.cache_from_source(m.__file__)) for m in (func_python, uvicorn)))"
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


@pytest.mark.integration
def test_a_functions_framework_environment_puts_main_on_the_path(tmp_path: Path) -> None:
    project = load_project(gff_project(tmp_path / "src"))
    environment = ensure_environment(project, tmp_path / "builds")
    code = "import main, functions_framework, uvicorn; print(main.VERSION)"
    assert python_says(environment.python, "-c", code, cwd=tmp_path) == "one"


@pytest.mark.integration
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


@pytest.mark.integration
def test_an_interrupted_build_is_rebuilt(tmp_path: Path) -> None:
    project = load_project(kn_func_project(tmp_path / "src"))
    root, _ = environment_path(project, tmp_path / "builds")
    (root / "bin").mkdir(parents=True)  # a half-built environment: no marker
    environment = ensure_environment(project, tmp_path / "builds")
    assert (environment.root / MARKER).is_file()
    assert environment.python.is_file()


@pytest.mark.integration
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


# ---------------------------------------------------------------- the cache


@pytest.mark.parametrize(
    ("marker", "current", "reason"),
    [
        ({"key": "k1"}, "k1", None),
        ({"key": "k1"}, "k2", "dependencies changed since"),
        ({"key": "k1"}, None, "project folder gone"),
        (None, "k1", "unfinished build"),
    ],
)
def test_an_environment_is_stale_when_no_project_needs_it(
    marker: dict[str, str] | None, current: str | None, reason: str | None
) -> None:
    assert stale_reason(marker, current) == reason


def _cached(builds: Path, name: str, project: Path, key: str) -> Path:
    root = builds / name
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "python").write_bytes(b"\0" * 1024)
    (root / MARKER).write_text(json.dumps({"key": key, "project": str(project)}))
    root.with_name(name + ".lock").touch()
    return root


def test_prune_deletes_what_no_function_needs_and_keeps_the_current_ones(tmp_path: Path) -> None:
    project = load_project(kn_func_project(tmp_path / "src"))
    builds = tmp_path / "builds"
    current = _cached(builds, "hello-current", project.path, environment_key(project))
    old = _cached(builds, "hello-old", project.path, "an older key")
    gone = _cached(builds, "gone-1", tmp_path / "deleted", "k")
    (builds / "half-built").mkdir()

    listed = prune(builds, dry_run=True)
    assert {e.root.name for e in listed} == {"hello-old", "gone-1", "half-built"}
    assert old.is_dir()  # a dry run deletes nothing

    pruned = {e.root.name: e.stale for e in prune(builds)}
    assert pruned == {
        "hello-old": "dependencies changed since",
        "gone-1": "project folder gone",
        "half-built": "unfinished build",
    }
    assert sorted(p.name for p in builds.iterdir()) == ["hello-current", "hello-current.lock"]
    assert [e.stale for e in survey(builds)] == [None] and current.is_dir()
