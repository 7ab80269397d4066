"""The repository side of a sync, against real git repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bulut.gitops.source import Repository, SourceError


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    repo = tmp_path / "origin"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "fn").mkdir()
    (repo / "fn" / "func.py").write_text("VERSION = 1\n")
    (repo / "other.txt").write_text("x\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    return repo


def test_fetch_resolves_a_branch_to_its_commit_and_message(origin: Path, tmp_path: Path) -> None:
    repository = Repository(str(origin), tmp_path / "app")
    repository.fetch()
    commit = repository.resolve("main")
    assert commit.sha == git(origin, "rev-parse", "HEAD")
    assert commit.message == "first"


def test_checkout_follows_new_commits_and_removes_deleted_files(
    origin: Path, tmp_path: Path
) -> None:
    repository = Repository(str(origin), tmp_path / "app")
    repository.fetch()
    tree = repository.checkout(repository.resolve("main"))
    assert (tree / "other.txt").is_file()
    git(origin, "rm", "-q", "other.txt")
    (origin / "fn" / "func.py").write_text("VERSION = 2\n")
    git(origin, "commit", "-qam", "second")
    repository.fetch()
    assert repository.checkout(repository.resolve("main")) == tree
    assert not (tree / "other.txt").exists()
    assert (tree / "fn" / "func.py").read_text() == "VERSION = 2\n"


def test_a_folders_tree_id_changes_only_when_the_folder_does(origin: Path, tmp_path: Path) -> None:
    repository = Repository(str(origin), tmp_path / "app")
    repository.fetch()
    first = repository.resolve("main")
    (origin / "other.txt").write_text("y\n")
    git(origin, "commit", "-qam", "outside fn")
    repository.fetch()
    second = repository.resolve("main")
    (origin / "fn" / "func.py").write_text("VERSION = 3\n")
    git(origin, "commit", "-qam", "inside fn")
    repository.fetch()
    third = repository.resolve("main")
    assert repository.tree_id(first, "fn") == repository.tree_id(second, "fn")
    assert repository.tree_id(second, "fn") != repository.tree_id(third, "fn")
    assert repository.tree_id(third, "missing") is None


def test_an_unknown_revision_is_named(origin: Path, tmp_path: Path) -> None:
    repository = Repository(str(origin), tmp_path / "app")
    repository.fetch()
    with pytest.raises(SourceError, match="revision 'nope' not found"):
        repository.resolve("nope")


def test_an_unreachable_repository_fails_with_its_url(tmp_path: Path) -> None:
    repository = Repository(str(tmp_path / "missing"), tmp_path / "app")
    with pytest.raises(SourceError, match="missing"):
        repository.fetch()
