"""A closed data plane starts nothing more.

`bulut up` stops serving before it stops the control plane's watches, so a Revision may
still arrive from the feed after ``Serving.aclose()``. Its runtime used to be built and
started then, and nothing closed it: its zygote start and crash-loop restarts outlived the
event loop ("Task was destroyed but it is pending"; seen in a fresh-clone CI run of
tests/integration/test_devloop.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bulut.serving import Serving
from bulut.settings import Settings
from tests.support.serving import MemoryFeed, revision

pytestmark = pytest.mark.integration


async def test_a_revision_arriving_after_close_starts_no_runtime(
    tmp_path: Path, fixture_functions: Path, builds_dir: Path, build_function: Any
) -> None:
    build_function("echo")
    serving = Serving(
        Settings(),
        MemoryFeed(),
        functions_dir=fixture_functions,
        builds_dir=builds_dir,
        volumes_dir=tmp_path / "volumes",
    )
    await serving.aclose()
    await serving.apply({"type": "ADDED", "object": revision("echo")})
    try:
        while any(not build.done() for build in serving._builds.values()):
            await asyncio.sleep(0.01)
        assert serving.revisions == {}
    finally:
        await asyncio.gather(*(r.aclose() for r in serving.revisions.values()))
