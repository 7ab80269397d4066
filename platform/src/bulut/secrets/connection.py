"""How commands find the Vault of the running platform.

`bulut up` writes ``<state>/vault/addr`` and ``<state>/vault/token`` (mode 0600) when it starts
its own OpenBao (persistent Raft storage, see :mod:`.devserver`) and removes them when it
stops; ``BULUT_VAULT_ADDR`` / ``BULUT_VAULT_TOKEN`` point at a real Vault instead.
`bulut dr backup` reads the same two files to snapshot the running node.
"""

from __future__ import annotations

import os
from pathlib import Path

from bulut.errors import SecretUnavailableError
from bulut.settings import Settings

from .vault import Vault


def vault_dir(settings: Settings) -> Path:
    """Where the dev server's files live."""
    return settings.state_dir / "vault"


def remember(settings: Settings, addr: str, token: str) -> None:
    """Record the dev server's address and token for later commands (token file 0600)."""
    directory = vault_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "addr").write_text(addr)
    descriptor = os.open(directory / "token", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token)


def forget(settings: Settings) -> None:
    """Remove the recorded address and token (the dev server is gone)."""
    for name in ("addr", "token"):
        (vault_dir(settings) / name).unlink(missing_ok=True)


def connect(settings: Settings) -> Vault:
    """A Vault client: the configured one, else the running platform's dev server."""
    if settings.vault_addr:
        if not settings.vault_token:
            addr, token = Settings.env_name("vault_addr"), Settings.env_name("vault_token")
            raise SecretUnavailableError(f"{addr} is set but {token} is not: set both")
        return Vault(settings.vault_addr, settings.vault_token)
    directory = vault_dir(settings)
    try:
        addr = (directory / "addr").read_text().strip()
        token = (directory / "token").read_text().strip()
    except FileNotFoundError:
        raise SecretUnavailableError(
            f"no Vault is running for {settings.state_dir}: start the platform with `bulut up`, "
            f"or set {Settings.env_name('vault_addr')} and {Settings.env_name('vault_token')}"
        ) from None
    return Vault(addr, token)
