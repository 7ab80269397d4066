"""The Makefile's promises: `make help` lists every target, `make e2e` passes with no cluster."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path


def _targets(repo_root: Path) -> list[str]:
    makefile = (repo_root / "Makefile").read_text()
    return re.findall(r"^([\w-]+):.*?## ", makefile, flags=re.MULTILINE)


def test_make_help_lists_every_documented_target(repo_root: Path) -> None:
    shown = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=repo_root, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    listed = re.findall(r"^\s+(?:\x1b\[\d+m)?([\w-]+)", shown, flags=re.MULTILINE)

    assert "e2e" in _targets(repo_root)
    assert listed == _targets(repo_root)


def test_make_e2e_without_a_cluster_skips_with_the_reason_and_succeeds(
    repo_root: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "none")}

    result = subprocess.run(
        ["make", "--no-print-directory", "e2e"],
        cwd=repo_root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^\d+ skipped in ", result.stdout, flags=re.MULTILINE), result.stdout
    assert "no cluster: set KUBECONFIG" in result.stdout


def test_make_e2e_does_not_take_the_local_platform_for_a_cluster(
    repo_root: Path, tmp_path: Path
) -> None:
    """`bulut up` makes its context current; the cluster suite must still skip, not run
    against the local control plane."""
    kubeconfig = tmp_path / "config"
    env = {**os.environ, "HOME": str(tmp_path), "KUBECONFIG": str(kubeconfig)}
    subprocess.run(
        [str(repo_root / ".venv" / "bin" / "bulut"), "kubeconfig"],
        env=env, cwd=tmp_path, capture_output=True, check=True,
    )  # fmt: skip

    result = subprocess.run(
        ["make", "--no-print-directory", "e2e"],
        cwd=repo_root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "the current context 'bulut' is the local platform's" in result.stdout
