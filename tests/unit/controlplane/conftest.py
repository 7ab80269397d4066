"""A started control plane over SQLite in the test's folder (no HTTP server: ASGI in process)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bulut.controlplane import ControlPlane
from bulut.settings import Settings


@pytest.fixture
async def control(tmp_path: Path) -> AsyncIterator[ControlPlane]:
    plane = ControlPlane(Settings(state_dir=tmp_path, functions_dir=tmp_path), check_images=False)
    await plane.start()
    yield plane
    await plane.aclose()
