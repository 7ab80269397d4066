"""What local disaster recovery leaves in a clone (backups/ holds Vault data, restores keep
the old state aside) is ignored by git and by ruff, so `make test` stays green after it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

RUFF = str(Path(sys.executable).parent / "ruff")
LEFT_BEHIND = (
    "backups/2026-12-07T00-00-00Z/vault/data.py",
    ".bulut.before-restore-1765065600/x.py",
)


@pytest.fixture
def clone(repo_root: Path, tmp_path: Path) -> Path:
    """A git repository with the project's ignore rules and ruff configuration."""
    for name in (".gitignore", "pyproject.toml"):
        shutil.copy(repo_root / name, tmp_path / name)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for relative in LEFT_BEHIND:
        path = tmp_path / relative
        path.parent.mkdir(parents=True)
        path.write_text("import os,sys\nx=1 ;y =  2\n")  # unused imports, bad format
    return tmp_path


def test_git_ignores_backups_and_the_state_a_restore_keeps_aside(clone: Path) -> None:
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=clone, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    assert sorted(status.split()) == [".gitignore", "??", "??", "pyproject.toml"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff_does_not_lint_them(clone: Path, command: list[str]) -> None:
    result = subprocess.run(
        [RUFF, *command, "--no-cache", "."], cwd=clone, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
