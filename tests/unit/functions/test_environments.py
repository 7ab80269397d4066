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

from tests.support.projects import gff_project, kn_func_project


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
