"""Integration fixtures shared across planes: built fixture functions, a running data plane."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bulut.functions.environments import Environment, ensure_environment
from bulut.functions.project import FunctionProject, load_project
from tests.support.serving import DataPlane, start_data_plane, stop_data_plane

FIXTURE_FUNCTIONS = Path(__file__).resolve().parent.parent / "fixtures" / "functions"


@pytest.fixture(scope="session")
def builds_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One builds folder for the whole run (shared by xdist workers; builds are locked)."""
    root = tmp_path_factory.getbasetemp().parent / "bulut-builds"
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="session")
def fixture_functions() -> Path:
    """tests/fixtures/functions: tiny kn func projects made for tests."""
    return FIXTURE_FUNCTIONS


@pytest.fixture(scope="session")
def build_function(builds_dir: Path) -> object:
    """``build_function(name) -> (project, environment)`` for a fixture function."""
    built: dict[str, tuple[FunctionProject, Environment]] = {}

    def build(name: str) -> tuple[FunctionProject, Environment]:
        if name not in built:
            project = load_project(FIXTURE_FUNCTIONS / name)
            built[name] = (project, ensure_environment(project, builds_dir))
        return built[name]

    return build


@pytest.fixture
async def plane(
    tmp_path: Path, fixture_functions: Path, builds_dir: Path, build_function: Any
) -> AsyncIterator[DataPlane]:
    """A running serving data plane over the fixture functions (echo, slow, crashy built)."""
    for name in ("echo", "slow", "crashy"):
        build_function(name)
    running = await start_data_plane(tmp_path, fixture_functions, builds_dir)
    yield running
    await stop_data_plane(running)
