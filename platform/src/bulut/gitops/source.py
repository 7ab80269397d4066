"""The repository an application syncs from: fetch, resolve a revision, check a commit out.

Each application keeps a bare mirror (``<root>/repo.git``) and one work tree
(``<root>/checkout``) moved to the commit being synced, as Argo CD's repo-server does. The
work tree's path never changes, so function environments built from it (their key includes
the project folder) are built once and reused by every later commit.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bulut.errors import BulutError

# No prompt for credentials, no pager, no user or system config that could change the result.
_GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "GIT_CONFIG_NOSYSTEM": "1",
    "LC_ALL": "C",
}


class SourceError(BulutError):
    """The repository could not be fetched, or the revision or path does not exist."""

    http_status = 502
    title = "Repository unavailable"


@dataclass(frozen=True)
class Commit:
    """A resolved revision: its SHA and the first line of its message."""

    sha: str
    message: str

    @property
    def short(self) -> str:
        """The abbreviated SHA (7 characters, as git and Argo CD show it)."""
        return self.sha[:7]


def normalise_url(repo: str) -> str:
    """A git URL as given, or a local path made absolute (a push can happen from anywhere)."""
    if "://" in repo or (":" in repo and not repo.startswith(("/", "."))):
        return repo
    return str(Path(repo).expanduser().resolve())


class Repository:
    """A mirror of one git repository and a work tree for the commit being synced."""

    def __init__(self, url: str, root: Path) -> None:
        self.url = url
        self.root = root
        self.mirror = root / "repo.git"
        self.checkout_dir = root / "checkout"

    def fetch(self) -> None:
        """Bring the mirror up to date with the remote (clone it the first time)."""
        if (self.mirror / "HEAD").is_file():
            self._git("--git-dir", str(self.mirror), "fetch", "--prune", "--quiet", "origin")
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self._git("clone", "--mirror", "--quiet", self.url, str(self.mirror))

    def resolve(self, revision: str) -> Commit:
        """The commit a branch, tag or SHA names in the mirror."""
        sha = self._git(
            "--git-dir",
            str(self.mirror),
            "rev-parse",
            "--verify",
            "--quiet",
            f"{revision}^{{commit}}",
            what=f"revision {revision!r} not found in {self.url}",
        ).strip()
        message = self._git("--git-dir", str(self.mirror), "log", "-1", "--format=%s", sha)
        return Commit(sha=sha, message=message.strip())

    def checkout(self, commit: Commit) -> Path:
        """Move the work tree to ``commit`` (files removed in it are removed) and return it."""
        if not (self.checkout_dir / ".git").exists():
            self._git(
                "--git-dir",
                str(self.mirror),
                "worktree",
                "add",
                "--detach",
                "--force",
                str(self.checkout_dir),
                commit.sha,
            )
            return self.checkout_dir
        self._git("-C", str(self.checkout_dir), "checkout", "--detach", "--force", commit.sha)
        self._git("-C", str(self.checkout_dir), "clean", "-ffdqx")
        return self.checkout_dir

    def tree_id(self, commit: Commit, path: str) -> str | None:
        """The git object id of a folder at ``commit`` (it changes exactly when the folder does)."""
        try:
            return (
                self._git(
                    "--git-dir",
                    str(self.mirror),
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    f"{commit.sha}:{path.strip('/')}",
                ).strip()
                or None
            )
        except SourceError:
            return None

    def _git(self, *args: str, what: str | None = None) -> str:
        environ = {**os.environ, **_GIT_ENV}
        completed = subprocess.run(
            ["git", *args], capture_output=True, text=True, env=environ, check=False
        )
        if completed.returncode != 0:
            detail = completed.stderr.strip().splitlines()
            reason = what or (detail[-1] if detail else f"git {args[0]} failed")
            raise SourceError(f"{self.url}: {reason}")
        return completed.stdout
