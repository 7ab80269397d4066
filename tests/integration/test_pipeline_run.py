"""`bulut pipeline run function-ci` for real: the steps run here pass, or fail by name."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(180)]
REPO = Path(__file__).resolve().parents[2]


def bulut(*args: str, state_dir: Path) -> subprocess.CompletedProcess[str]:
    # Builds beside the state: a copied function folder would leave one per run in the cache.
    builds = str(state_dir / "builds")
    env = {**os.environ, "BULUT_STATE_DIR": str(state_dir), "BULUT_BUILDS_DIR": builds}
    env["COLUMNS"] = "200"
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [sys.executable, "-m", "bulut.cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )


def summary(stdout: str) -> dict[str, list[str]]:
    """STEP -> the rest of its summary row."""
    rows: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        cells = line.split(maxsplit=2)
        if len(cells) >= 2 and cells[1] in ("passed", "failed", "skipped"):
            rows[cells[0]] = cells[1:]
    return rows


def test_function_ci_for_inventory_passes_locally_and_skips_what_needs_a_cluster(
    tmp_path: Path,
) -> None:
    result = bulut("pipeline", "run", "function-ci", "--function", "inventory", state_dir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = summary(result.stdout)
    for step in ("lint", "unit-test", "render-check", "validate", "build"):
        assert rows[step][0] == "passed", (step, result.stdout)
    assert rows["checkout"][0] == "skipped"
    assert "the local run uses the working tree" in rows["checkout"][1]
    assert "needs a container registry" in rows["push"][1]
    assert rows["scan"][0] == ("passed" if shutil.which("trivy") else "skipped")
    assert "pipeline function-ci (inventory) passed" in result.stdout


def test_a_failing_unit_test_fails_the_run_and_names_the_step(tmp_path: Path) -> None:
    broken = tmp_path / "inventory"
    shutil.copytree(
        REPO / "functions" / "inventory",
        broken,
        ignore=shutil.ignore_patterns(".pytest_cache", "__pycache__", "*.db"),
    )
    (broken / "tests" / "test_broken.py").write_text(
        "def test_the_pipeline_catches_this() -> None:\n    assert 1 + 1 == 3\n"
    )
    result = bulut(
        "pipeline", "run", "function-ci", "--function", str(broken), state_dir=tmp_path / "state"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    rows = summary(result.stdout)
    assert rows["unit-test"][0] == "failed"
    assert rows["lint"][0] == "passed"
    assert rows["build"][0] == "skipped" and "unit-test failed" in rows["build"][1]
    assert "failed at: unit-test" in result.stderr
    assert "test_the_pipeline_catches_this" in result.stderr
