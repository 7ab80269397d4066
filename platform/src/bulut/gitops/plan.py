"""What a sync does, decided without I/O: compare desired with live, order waves, pick prunes.

The comparison is Argo CD's for a client-side apply, simplified: an object is in sync when
every field the desired object sets has the same value live. Fields the server adds
(defaults, ``status``, ``metadata.uid``...) do not make it out of sync; a field set by hand
to another value does (drift).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import yaml

from bulut.errors import InvalidInputError

from .tracking import ObjectRef, sync_wave, tracked_app, with_tracking

# Written by the server, never by the repository: ignored when comparing.
_SERVER_METADATA = frozenset(
    {
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "managedFields",
        "selfLink",
        "deletionTimestamp",
        "finalizers",
        "ownerReferences",
    }
)


class SyncStatus(StrEnum):
    """Argo CD's sync status of an object or an application."""

    SYNCED = "Synced"
    OUT_OF_SYNC = "OutOfSync"
    UNKNOWN = "Unknown"


class Health(StrEnum):
    """Argo CD's health statuses (worst last)."""

    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"
    MISSING = "Missing"
    DEGRADED = "Degraded"


_HEALTH_ORDER = (Health.HEALTHY, Health.PROGRESSING, Health.MISSING, Health.DEGRADED)


def worst(healths: Iterable[Health]) -> Health:
    """An application's health: the worst of its objects' (Healthy when it has none)."""
    return max(healths, key=_HEALTH_ORDER.index, default=Health.HEALTHY)


def is_subset(desired: Any, live: Any) -> bool:
    """Whether every value ``desired`` sets is the same in ``live``."""
    if isinstance(desired, Mapping):
        if not isinstance(live, Mapping):
            return False
        return all(key in live and is_subset(value, live[key]) for key, value in desired.items())
    if isinstance(desired, list):
        if not isinstance(live, list) or len(desired) != len(live):
            return False
        return all(is_subset(d, v) for d, v in zip(desired, live, strict=True))
    return bool(desired == live) or (_scalar(desired) == _scalar(live))


def _scalar(value: Any) -> Any:
    """Kubernetes reads ``"1"`` and ``1`` in string fields alike (annotations, env)."""
    return str(value) if isinstance(value, int | float | bool) else value


def comparable(document: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a document that the repository decides (no status, no server metadata)."""
    result = {k: v for k, v in document.items() if k != "status"}
    metadata = {
        k: v for k, v in (document.get("metadata") or {}).items() if k not in _SERVER_METADATA
    }
    result["metadata"] = metadata
    return result


def in_sync(desired: Mapping[str, Any], live: Mapping[str, Any] | None) -> bool:
    """Whether ``live`` exists and holds every value ``desired`` sets."""
    return live is not None and is_subset(comparable(desired), live)


def diff_text(desired: Mapping[str, Any], live: Mapping[str, Any] | None) -> str:
    """A unified diff of an object, live → desired, in YAML (what ``argocd app diff`` shows)."""
    wanted = yaml.safe_dump(comparable(desired), sort_keys=True).splitlines()
    current = (
        yaml.safe_dump(_projected(comparable(desired), live), sort_keys=True).splitlines()
        if live is not None
        else []
    )
    ref = ObjectRef.of(desired)
    lines = difflib.unified_diff(current, wanted, f"live/{ref}", f"desired/{ref}", lineterm="")
    return "\n".join(lines)


def _projected(shape: Any, live: Any) -> Any:
    """``live`` cut down to the fields ``shape`` sets (so the diff shows only what matters)."""
    if isinstance(shape, Mapping) and isinstance(live, Mapping):
        return {k: _projected(v, live[k]) for k, v in shape.items() if k in live}
    if isinstance(shape, list) and isinstance(live, list):
        paired = [_projected(s, v) for s, v in zip(shape, live, strict=False)]
        return paired + live[len(shape) :]
    return live


@dataclass(frozen=True)
class ObjectPlan:
    """One object of an application: what the repository wants and what is live."""

    ref: ObjectRef
    desired: dict[str, Any] | None
    live: dict[str, Any] | None
    wave: int

    @property
    def status(self) -> SyncStatus:
        """Synced when live holds the desired values; a managed object not desired is OutOfSync."""
        if self.desired is None:
            return SyncStatus.OUT_OF_SYNC
        return SyncStatus.SYNCED if in_sync(self.desired, self.live) else SyncStatus.OUT_OF_SYNC


@dataclass(frozen=True)
class SyncPlan:
    """Every object of an application, with what a sync must apply and prune."""

    app: str
    objects: tuple[ObjectPlan, ...]
    prune_enabled: bool = True
    waves: tuple[tuple[int, tuple[dict[str, Any], ...]], ...] = field(default=())

    @property
    def status(self) -> SyncStatus:
        """The application is Synced when every object is."""
        if any(o.status is SyncStatus.OUT_OF_SYNC for o in self.objects):
            return SyncStatus.OUT_OF_SYNC
        return SyncStatus.SYNCED

    @property
    def to_apply(self) -> list[dict[str, Any]]:
        """Every desired document (applied wave by wave, lowest first)."""
        return [d for _, docs in self.waves for d in docs]

    @property
    def to_prune(self) -> list[ObjectPlan]:
        """Managed objects the repository no longer has, highest wave first (Argo CD's order)."""
        if not self.prune_enabled:
            return []
        gone = [o for o in self.objects if o.desired is None and o.live is not None]
        return sorted(gone, key=lambda o: (-o.wave, o.ref))


def plan_sync(
    app: str,
    desired: Sequence[Mapping[str, Any]],
    live: Sequence[Mapping[str, Any]],
    *,
    prune: bool = True,
) -> SyncPlan:
    """Compare the rendered repository with the live objects this application manages.

    ``live`` may hold any objects: only those tracked for ``app`` count as managed, so
    objects made by hand or by another application are never pruned.
    """
    wanted: dict[ObjectRef, dict[str, Any]] = {}
    for document in desired:
        ref = ObjectRef.of(document)
        if ref in wanted:
            raise InvalidInputError(f"{ref} appears twice in the rendered manifests")
        wanted[ref] = with_tracking(app, document)
    current = {ObjectRef.of(o): dict(o) for o in live}
    managed = {ref for ref, obj in current.items() if tracked_app(obj) == app}
    objects: list[ObjectPlan] = []
    for ref in sorted(set(wanted) | managed):
        target = wanted.get(ref)
        live_object = current.get(ref)
        wave = sync_wave(target if target is not None else live_object or {})
        objects.append(ObjectPlan(ref=ref, desired=target, live=live_object, wave=wave))
    by_wave: dict[int, list[dict[str, Any]]] = {}
    for plan in objects:
        if plan.desired is not None:
            by_wave.setdefault(plan.wave, []).append(plan.desired)
    waves = tuple((wave, tuple(by_wave[wave])) for wave in sorted(by_wave))
    return SyncPlan(app=app, objects=tuple(objects), prune_enabled=prune, waves=waves)
