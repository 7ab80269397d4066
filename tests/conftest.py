"""Fixtures every test layer shares: repository paths, the vendored reference data, ports."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def vendor_dir() -> Path:
    """`vendor/`: the upstream schemas and conformance cases the tests read (vendor/SOURCES.txt)."""
    return REPO_ROOT / "vendor"


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
