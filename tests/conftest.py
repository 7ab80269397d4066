"""Fixtures every test layer shares: repository paths, the shared reference data, ports."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _shared_dir() -> Path | None:
    """The `shared/` folder beside the clone (reference data), if this machine has it."""
    candidates = [os.environ.get("BULUT_SHARED_DIR"), REPO_ROOT.parent / "shared"]
    for candidate in candidates:
        if candidate and Path(candidate, "schemas").is_dir():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`../shared` (schemas, conformance cases); tests that need it skip without it."""
    found = _shared_dir()
    if found is None:
        pytest.skip("../shared (schemas and conformance data) is not present on this machine")
    return found


def free_port() -> int:
    """An ephemeral loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
