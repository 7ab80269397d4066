"""Drill scenarios: ``disaster-recovery/drills/<scenario>.yaml`` parsed into typed data.

A scenario declares the app to run, the seed traffic, the backup, the disaster, the
restore and the checks::

    name: standard
    platform: {filename: disaster-recovery/drills/app/manifests.yaml, startTimeout: 300}
    seed: {broker: drill/default, events: 200, concurrency: 16, afterBackup: 50}
    subscriber: {service: drill/recorder, database: recorder.db, table: seen}
    backup: {location: directory, shipping: true, sealed: true}
    disaster: delete-state
    restore: backup
    checks: [services-answer, no-acked-event-lost, event-counts-match,
             function-data-matches, secrets-readable]
    objectives: {rtoSeconds: 60, rpoEvents: 0}

Parsing is pure; a bad file is a ManifestError naming the file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bulut.errors import ManifestError

DISASTERS = ("kill-runtime", "delete-state", "corrupt-database", "lose-vault")
RESTORES = ("backup", "restart")
LOCATIONS = ("directory", "s3")
CHECKS = (
    "services-answer",
    "no-acked-event-lost",
    "event-counts-match",
    "function-data-matches",
    "secrets-readable",
)


@dataclass(frozen=True)
class Platform:
    """How to start the app: ``-f`` files or a ``-k`` kustomization."""

    filename: str | None = None
    kustomize: str | None = None
    start_timeout: float = 300.0


@dataclass(frozen=True)
class Seed:
    """Traffic before the backup (``events``) and after it (``after_backup``)."""

    broker: str
    events: int = 100
    concurrency: int = 8
    after_backup: int = 0
    type: str = "dev.bulut.drill.seed"

    @property
    def namespace(self) -> str:
        """The broker's namespace."""
        return self.broker.split("/", 1)[0]

    @property
    def name(self) -> str:
        """The broker's name."""
        return self.broker.split("/", 1)[1]


@dataclass(frozen=True)
class Subscriber:
    """The function whose own database must hold every acked event after recovery."""

    service: str
    database: str = "recorder.db"
    table: str = "seen"

    @property
    def namespace(self) -> str:
        """The service's namespace."""
        return self.service.split("/", 1)[0]

    @property
    def name(self) -> str:
        """The service's name."""
        return self.service.split("/", 1)[1]


@dataclass(frozen=True)
class Objectives:
    """What the drill must meet."""

    rto_seconds: float = 60.0
    rpo_events: int = 0


@dataclass(frozen=True)
class Scenario:
    """One drill."""

    name: str
    platform: Platform
    seed: Seed
    subscriber: Subscriber
    disaster: str
    restore: str
    location: str = "directory"
    shipping: bool = False
    sealed: bool = False  # back up with a fresh backup key (Vault's unseal key sealed)
    checks: tuple[str, ...] = CHECKS
    objectives: Objectives = Objectives()
    description: str = ""


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ManifestError(f"{where}: expected a mapping", field=where)
    return value


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise ManifestError(f"{where}: {value!r} is not one of {', '.join(allowed)}", field=where)
    return str(value)


def _positive(value: Any, where: str, *, zero: bool = False) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < (0 if zero else 1):
        raise ManifestError(f"{where}: expected a whole number >= {0 if zero else 1}", field=where)
    return value


def _qualified(value: Any, where: str) -> str:
    if not isinstance(value, str) or value.count("/") != 1 or "" in value.split("/"):
        raise ManifestError(f"{where}: expected <namespace>/<name>", field=where)
    return value


_TOP = {
    "name", "description", "platform", "seed", "subscriber", "backup",
    "disaster", "restore", "checks", "objectives",
}  # fmt: skip


def parse_scenario(document: Any, *, source: str = "<scenario>") -> Scenario:
    """A :class:`Scenario` from a loaded YAML document."""
    top = _mapping(document, source)
    unknown = sorted(set(top) - _TOP)
    if unknown:
        raise ManifestError(f"{source}: unknown field {unknown[0]!r}", field=unknown[0])
    platform = _mapping(top.get("platform"), f"{source}: platform")
    if bool(platform.get("filename")) == bool(platform.get("kustomize")):
        raise ManifestError(
            f"{source}: platform: set exactly one of filename or kustomize", field="platform"
        )
    seed = _mapping(top.get("seed"), f"{source}: seed")
    subscriber = _mapping(top.get("subscriber"), f"{source}: subscriber")
    backup = _mapping(top.get("backup"), f"{source}: backup")
    objectives = _mapping(top.get("objectives"), f"{source}: objectives")
    checks = top.get("checks", list(CHECKS))
    if not isinstance(checks, list):
        raise ManifestError(f"{source}: checks: expected a list", field="checks")
    return Scenario(
        name=str(top.get("name") or Path(source).stem),
        description=str(top.get("description", "")),
        platform=Platform(
            filename=platform.get("filename"),
            kustomize=platform.get("kustomize"),
            start_timeout=float(platform.get("startTimeout", 300.0)),
        ),
        seed=Seed(
            broker=_qualified(seed.get("broker"), f"{source}: seed.broker"),
            events=_positive(seed.get("events", 100), f"{source}: seed.events"),
            concurrency=_positive(seed.get("concurrency", 8), f"{source}: seed.concurrency"),
            after_backup=_positive(
                seed.get("afterBackup", 0), f"{source}: seed.afterBackup", zero=True
            ),
        ),
        subscriber=Subscriber(
            service=_qualified(subscriber.get("service"), f"{source}: subscriber.service"),
            database=str(subscriber.get("database", "recorder.db")),
            table=str(subscriber.get("table", "seen")),
        ),
        location=_choice(
            backup.get("location", "directory"), LOCATIONS, f"{source}: backup.location"
        ),
        shipping=bool(backup.get("shipping", False)),
        sealed=bool(backup.get("sealed", False)),
        disaster=_choice(top.get("disaster"), DISASTERS, f"{source}: disaster"),
        restore=_choice(top.get("restore", "backup"), RESTORES, f"{source}: restore"),
        checks=tuple(
            _choice(check, CHECKS, f"{source}: checks[{index}]")
            for index, check in enumerate(checks)
        ),
        objectives=Objectives(
            rto_seconds=float(objectives.get("rtoSeconds", 60.0)),
            rpo_events=_positive(
                objectives.get("rpoEvents", 0), f"{source}: objectives.rpoEvents", zero=True
            ),
        ),
    )


def load_scenario(path: Path) -> Scenario:
    """Read and parse a scenario file."""
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ManifestError(f"{path}: cannot read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise ManifestError(f"{path}: not valid YAML: {error}") from None
    return parse_scenario(document, source=str(path))
