"""An instance's env cannot make its interpreter run a command (issue #20, item 2).

``PYTHONWARNINGS=ignore::antigravity.x`` makes Python import ``antigravity`` at start-up,
which opens a "browser": the command in ``BROWSER``. Any Service with that env ran a
shell command as the platform's user when its zygote or instance started.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bulut.settings import Settings
from tests.integration.test_serving_dataplane import EVENT_HEADERS
from tests.support.serving import (
    revision,
    route,
    start_data_plane,
    stop_data_plane,
)

pytestmark = pytest.mark.integration


def hijacking_env(witness: Path) -> dict[str, str]:
    """Env that, unstripped, makes the instance's Python run a script creating ``witness``."""
    script = witness.with_suffix(".sh")
    script.write_text(f"#!/bin/sh\ntouch {witness}\n")
    script.chmod(0o755)
    return {
        "PYTHONWARNINGS": "ignore::antigravity.Nothing",
        "BROWSER": str(script),
        "PERL5OPT": "-Mstrict",
        "LD_PRELOAD": "/nonexistent/lib.so",
        "GREETING": "kept",
    }


@pytest.mark.parametrize("zygote", ["true", "false"])
async def test_interpreter_hijacking_variables_are_stripped(
    tmp_path: Path, fixture_functions: Path, builds_dir: Path, build_function: Any, zygote: str
) -> None:
    build_function("echo")
    witness = tmp_path / "pwned"
    plane = await start_data_plane(tmp_path, fixture_functions, builds_dir)
    try:
        rev = revision("echo", annotations={"bulut.dev/zygote": zygote}, env=hijacking_env(witness))
        plane.feed.put(rev)
        plane.feed.put(route("echo", [("echo-00001", 100, "")]))
        await plane.wait_built("echo-00001")
        reply = await plane.client.post(
            "/", headers={**plane.host("echo"), **EVENT_HEADERS}, content=b"{}"
        )
        assert reply.status_code == 200, reply.text
        assert not witness.exists()
        env = plane.serving.revisions[("default", "echo-00001")].spec.process_env()
        assert env["GREETING"] == "kept"
        assert not {"PYTHONWARNINGS", "BROWSER", "PERL5OPT", "LD_PRELOAD"} & set(env)
    finally:
        await stop_data_plane(plane)


async def test_a_variable_the_operator_allows_is_passed_through(
    tmp_path: Path, fixture_functions: Path, builds_dir: Path, build_function: Any
) -> None:
    build_function("echo")
    settings = Settings(allow_env="PYTHONWARNINGS")
    plane = await start_data_plane(tmp_path, fixture_functions, builds_dir, settings=settings)
    try:
        rev = revision("echo", env={"PYTHONWARNINGS": "ignore", "BROWSER": "x"})
        plane.feed.put(rev)
        await plane.wait_built("echo-00001")
        env = plane.serving.revisions[("default", "echo-00001")].spec.process_env()
        assert env["PYTHONWARNINGS"] == "ignore"
        assert "BROWSER" not in env
    finally:
        await stop_data_plane(plane)
