"""Where the local platform keeps its state, all under ``settings.state_dir``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Layout:
    """The state directories of one local platform."""

    root: Path
    builds_dir: Path | None = None

    @property
    def builds(self) -> Path:
        """Function environments (revision builds): a cache, by default outside the state."""
        return self.builds_dir or self.root / "builds"

    @property
    def recipes(self) -> Path:
        """Which environments the platform runs (state: a backup keeps these)."""
        return self.root / "recipes"

    @property
    def volumes(self) -> Path:
        """Per-service working directories (a function's own SQLite lives here)."""
        return self.root / "volumes"

    @property
    def eventing(self) -> Path:
        """The broker log and delivery state."""
        return self.root / "eventing"

    def create(self) -> None:
        """Create every directory; the state's own are the owner's only (0700).

        The state holds function data (card tokens), the broker's events and Vault's
        unseal key: other users of the machine must not read it.
        """
        for path in (self.root, self.builds, self.volumes, self.eventing):
            path.mkdir(parents=True, exist_ok=True)
        for path in (self.root, self.volumes, self.eventing):
            path.chmod(0o700)
