"""Applications (what to sync from where) and their sync history, kept under the state dir.

``<root>/applications.json`` holds the specs; ``<root>/<app>/history.json`` the newest
syncs (Argo CD keeps ten by default: ``revisionHistoryLimit``).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from bulut.errors import InvalidInputError, NotFoundError

HISTORY_LIMIT = 10
DEFAULT_INTERVAL = 3.0
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class Application:
    """One repository path synced into the local platform (an Argo CD Application)."""

    name: str
    repo: str
    path: str = "."
    revision: str = "HEAD"
    namespace: str | None = None
    prune: bool = True
    self_heal: bool = True
    interval: float = DEFAULT_INTERVAL

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise InvalidInputError(
                f"application name {self.name!r} must be a DNS label (lower-case letters, "
                "digits and '-', at most 63)",
                field="name",
            )
        if not self.repo:
            raise InvalidInputError("the repository is empty: give a git URL or path", field="repo")
        if PurePosixPath(self.path).is_absolute() or ".." in PurePosixPath(self.path).parts:
            raise InvalidInputError(
                f"path {self.path!r} must be relative to the repository root, without '..'",
                field="path",
            )
        if not self.revision:
            raise InvalidInputError(
                "the revision is empty: give a branch, tag or SHA", field="revision"
            )
        if not self.interval > 0:
            raise InvalidInputError("the polling interval must be positive", field="interval")

    @classmethod
    def from_spec(
        cls, spec: str, *, name: str | None = None, interval: float = DEFAULT_INTERVAL
    ) -> Application:
        """``REPO[#REVISION][:PATH]`` (``bulut up --sync``), named after the path's last folder."""
        repo, _, rest = spec.partition("#")
        revision, _, path = rest.partition(":") if rest else ("HEAD", "", ".")
        path = path or "."
        default = PurePosixPath(path).name if path != "." else "local"
        return cls(
            name=name or re.sub(r"[^a-z0-9-]", "-", default.lower()).strip("-") or "local",
            repo=repo,
            revision=revision or "HEAD",
            path=path,
            interval=interval,
        )

    def to_json(self) -> dict[str, Any]:
        """The spec as JSON."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Application:
        """A spec read back from JSON; unknown keys are refused with their name."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInputError(f"unknown field {unknown[0]!r}", field=unknown[0])
        return cls(**data)


@dataclass(frozen=True)
class SyncRecord:
    """One sync: which commit, why it ran, how it ended."""

    revision: str
    message: str
    trigger: str
    started_at: float
    finished_at: float
    phase: str  # Succeeded | Failed
    detail: str = ""
    applied: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        """Whether the sync applied everything it meant to."""
        return self.phase == "Succeeded"


class ApplicationStore:
    """Specs and histories on disk (written atomically: a crash leaves the old file)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def _specs(self) -> Path:
        return self.root / "applications.json"

    def load(self) -> dict[str, Application]:
        """Every application, by name."""
        if not self._specs.is_file():
            return {}
        data = json.loads(self._specs.read_text(encoding="utf-8"))
        return {name: Application.from_json(spec) for name, spec in data.items()}

    def save(self, applications: dict[str, Application]) -> None:
        """Replace the stored specs."""
        _write_json(self._specs, {n: a.to_json() for n, a in sorted(applications.items())})

    def history(self, name: str) -> list[SyncRecord]:
        """The newest syncs of one application, oldest first."""
        path = self.root / name / "history.json"
        if not path.is_file():
            return []
        return [SyncRecord(**item) for item in json.loads(path.read_text(encoding="utf-8"))]

    def record(self, name: str, record: SyncRecord) -> None:
        """Append a sync, keeping the newest :data:`HISTORY_LIMIT`."""
        kept = [*self.history(name), record][-HISTORY_LIMIT:]
        _write_json(self.root / name / "history.json", [asdict(r) for r in kept])

    def forget(self, name: str, applications: dict[str, Application]) -> dict[str, Application]:
        """Remove one application's spec (its folder stays until the next add)."""
        if name not in applications:
            raise NotFoundError(f"application {name!r} not found", field="name")
        remaining = {n: a for n, a in applications.items() if n != name}
        self.save(remaining)
        return remaining


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(temporary, path)
