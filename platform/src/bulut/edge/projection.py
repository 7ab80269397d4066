"""A platform token projected into a file, as the kubelet projects a ServiceAccount token.

Knative's ``authentication-oidc`` mounts a token for the sink's audience at ``/oidc/token``
in a bound workload's pod; the kubelet rewrites it before it expires. Locally the file lives
in the platform's state directory (mode 0600, directory 0700), is named to the program by
``K_OIDC_TOKEN_FILE``, and :meth:`ProjectedToken.keep_fresh` rewrites it every quarter of a
token's lifetime (the issuer renews a token once a fifth of its life is left).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from .issuer import PlatformIssuer

TOKEN_FILE_ENV = "K_OIDC_TOKEN_FILE"


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with a file only this user can read."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(path.name + ".partial")
    partial.touch(mode=0o600)
    partial.write_text(text)
    partial.replace(path)


@dataclass(frozen=True)
class ProjectedToken:
    """``subject``'s token for ``audience``, kept in ``path``."""

    issuer: PlatformIssuer
    subject: str
    audience: str
    path: Path

    def write(self) -> None:
        """Write the current token (a new one when the old one nears expiry)."""
        write_private(self.path, self.issuer.token(self.subject, self.audience).token)

    async def keep_fresh(self) -> None:
        """Rewrite the file for as long as the task runs."""
        while True:
            await asyncio.sleep(self.issuer.lifetime / 4)
            self.write()
