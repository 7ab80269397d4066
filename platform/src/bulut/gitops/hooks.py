"""`bulut gitops hook`: a post-receive hook that asks for a sync as soon as a push lands.

The hook runs inside `git push` on the receiving repository; it posts to
``POST /gitops/<app>/sync`` (202 at once) in the background, so the push returns at once
and never fails because the platform is down (the 3 s poll catches up then).
"""

from __future__ import annotations

import shlex
import stat
from pathlib import Path

from bulut.errors import InvalidInputError

MARKER = "# bulut gitops hook"


def hook_script(sync_url: str) -> str:
    """The post-receive script for one application's sync URL (POSIX sh and curl or python3)."""
    url = shlex.quote(sync_url)
    post = (
        "import sys, urllib.request as r; "
        "r.urlopen(r.Request(sys.argv[1], method='POST'), timeout=5)"
    )
    return f"""#!/bin/sh
{MARKER}: ask the local platform to sync now (see `bulut gitops hook --help`).
cat >/dev/null
( if command -v curl >/dev/null 2>&1; then
    curl -fsS -m 5 -X POST {url} >/dev/null 2>&1
  else
    python3 -c "{post}" {url} >/dev/null 2>&1
  fi ) &
exit 0
"""


def hooks_dir(repository: Path) -> Path:
    """The hooks folder of a bare repository, or of a working repository's .git."""
    for candidate in (repository / "hooks", repository / ".git" / "hooks"):
        if candidate.is_dir():
            return candidate
    raise InvalidInputError(
        f"{repository} is not a git repository (no hooks/ or .git/hooks/)", field="--repo"
    )


def install_hook(repository: Path, sync_url: str) -> Path:
    """Write (or replace) the post-receive hook; a hook that is not Bulut's is kept and refused."""
    path = hooks_dir(repository) / "post-receive"
    if path.exists() and MARKER not in path.read_text(encoding="utf-8", errors="replace"):
        raise InvalidInputError(
            f"{path} exists and is not Bulut's: merge it by hand (it must POST to {sync_url})",
            field="--repo",
        )
    path.write_text(hook_script(sync_url), encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path
