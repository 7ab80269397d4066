"""Fixtures every test layer shares: repository paths, the vendored reference data, ports."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.network import free_port as free_port  # re-exported for older imports
from tests.support.postgres import (  # noqa: F401  (fixtures for every test)
    database_url,
    postgres_server,
    postgres_socket,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis judges properties, not speed: no per-example deadline and no health check
    on how fast examples are generated (both measure the machine's load, not the code)."""
    from hypothesis import HealthCheck, settings

    settings.register_profile("bulut", deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("bulut")


@pytest.fixture(scope="session")
def kubeconfig_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for every test's own kubeconfig file (a folder per test cost a directory
    scan per test: ``mktemp`` numbers its folders by listing their parent)."""
    return tmp_path_factory.mktemp("kube")


@pytest.fixture(autouse=True)
def own_kubeconfig(request: pytest.FixtureRequest, kubeconfig_folder: Path) -> Iterator[None]:
    """Every test but the cluster suite gets a kubeconfig of its own (none at first): the
    user's current context never shapes a test, and no `bulut up` a test starts rewrites it."""
    if "e2e" in request.node.path.parts:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KUBECONFIG", str(kubeconfig_folder / f"config-{next(_KUBECONFIGS)}"))
        yield


_KUBECONFIGS = itertools.count()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def vendor_dir() -> Path:
    """`vendor/`: the CloudEvents conformance cases the tests read (vendor/SOURCES.txt)."""
    return REPO_ROOT / "vendor"


@pytest.fixture(scope="session")
def crds_dir() -> Path:
    """The one vendored copy of the CRDs and schemas (``bulut/apis/crds``, its SOURCES.txt)."""
    return REPO_ROOT / "platform" / "src" / "bulut" / "apis" / "crds"


@pytest.fixture
def port() -> int:
    """A free loopback port."""
    return free_port()


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Strip BULUT_* variables so Settings() sees only defaults."""
    for name in list(os.environ):
        if name.startswith("BULUT_"):
            monkeypatch.delenv(name)
    yield


@pytest.fixture
async def local_control_plane(tmp_path: Path) -> AsyncIterator[Any]:
    """A started ControlPlane on SQLite in tmp_path (no image check), stopped afterwards."""
    from bulut.controlplane.plane import ControlPlane
    from bulut.settings import Settings

    plane = ControlPlane(
        Settings(state_dir=tmp_path, data_port=0, control_port=0), check_images=False
    )
    await plane.start()
    yield plane
    await plane.aclose()
