"""Field management: ``metadata.managedFields`` and server-side apply (pure).

A field path is a tuple of keys from the object's root (``("spec", "template", ...)``).
Maps are walked key by key; lists and scalars are leaves (lists of custom resources without
``x-kubernetes-list-type`` are atomic, as on a cluster). Identity (apiVersion, kind,
metadata.name/namespace), server-owned metadata and ``status`` are nobody's.

- :func:`record_update` gives a non-apply write's manager the fields it changed (taking
  them from whoever held them: updates never conflict).
- :func:`server_side_apply` merges an applied configuration into the live object for one
  manager: fields another manager owns with a different value are conflicts (409 naming
  them) unless ``force``; fields this manager applied before and no longer applies are
  removed unless someone else owns them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .patches import clone
from .status import FieldConflictError

Path = tuple[str, ...]
_MISSING = object()
_USER_METADATA = ("labels", "annotations", "finalizers", "ownerReferences")


def leaf_paths(document: Mapping[str, Any]) -> set[Path]:
    """Every owned leaf of a document (user metadata, spec, data... never status)."""
    paths: set[Path] = set()
    for key, value in document.items():
        if key in ("apiVersion", "kind", "status"):
            continue
        if key == "metadata":
            meta = value if isinstance(value, Mapping) else {}
            for meta_key in _USER_METADATA:
                if meta_key in meta:
                    paths |= _walk(("metadata", meta_key), meta[meta_key])
            continue
        paths |= _walk((key,), value)
    return paths


def _walk(prefix: Path, value: Any) -> set[Path]:
    if isinstance(value, Mapping) and value:
        found: set[Path] = set()
        for key, sub in value.items():
            found |= _walk((*prefix, str(key)), sub)
        return found
    return {prefix}


def value_at(document: Any, path: Path) -> Any:
    """The value at ``path``, or a sentinel that equals nothing else when absent."""
    node = document
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return _MISSING
        node = node[key]
    return node


def _remove(document: dict[str, Any], path: Path) -> None:
    node: Any = document
    for key in path[:-1]:
        if not isinstance(node, dict) or key not in node:
            return
        node = node[key]
    if isinstance(node, dict):
        node.pop(path[-1], None)
    # Drop maps the removal left empty (a label map with no labels left).
    for depth in range(len(path) - 1, 0, -1):
        parent = value_at(document, path[: depth - 1]) if depth > 1 else document
        child = value_at(document, path[:depth])
        if isinstance(parent, dict) and isinstance(child, dict) and not child:
            parent.pop(path[depth - 1], None)
        else:
            break


def deep_merge(base: Any, overlay: Any) -> Any:
    """``overlay`` merged into ``base``: maps merge key by key, everything else replaces."""
    if not isinstance(overlay, Mapping) or not isinstance(base, Mapping):
        return clone(overlay)
    merged = clone(dict(base))
    for key, value in overlay.items():
        merged[key] = deep_merge(merged.get(key), value)
    return merged


def to_fields_v1(paths: Iterable[Path]) -> dict[str, Any]:
    """FieldsV1 (``{"f:spec": {"f:template": {}}}``) of a set of leaf paths."""
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for key in path:
            node = node.setdefault(f"f:{key}", {})
    return root


def from_fields_v1(fields: Mapping[str, Any], prefix: Path = ()) -> set[Path]:
    """The leaf paths of a FieldsV1 tree (``k:``/``v:``/``i:`` items count as their list)."""
    paths: set[Path] = set()
    for key, sub in fields.items():
        if key == ".":
            continue
        if not key.startswith("f:"):
            paths.add(prefix)
            continue
        path = (*prefix, key[2:])
        if isinstance(sub, Mapping) and any(k != "." for k in sub):
            paths |= from_fields_v1(sub, path)
        else:
            paths.add(path)
    return paths


def _overlaps(a: Path, b: Path) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def _entry(
    manager: str,
    operation: str,
    api_version: str,
    now: str,
    paths: set[Path],
    subresource: str = "",
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": now,
        "fieldsType": "FieldsV1",
        "fieldsV1": to_fields_v1(paths),
    }
    if subresource:
        entry["subresource"] = subresource
    return entry


def _same_owner(entry: Mapping[str, Any], manager: str, operation: str, sub: str) -> bool:
    return (entry.get("manager"), entry.get("operation"), entry.get("subresource", "")) == (
        manager,
        operation,
        sub,
    )


def _rebuild(
    entries: list[dict[str, Any]], taken: set[Path], keep: dict[str, Any]
) -> list[dict[str, Any]]:
    """Entries with ``taken`` paths removed from all but ``keep``; empty ones dropped."""
    result = []
    for entry in entries:
        if entry is keep:
            result.append(entry)
            continue
        paths = from_fields_v1(entry.get("fieldsV1") or {})
        left = {p for p in paths if not any(_overlaps(p, t) for t in taken)}
        if left:
            result.append({**entry, "fieldsV1": to_fields_v1(left)})
    return result


def changed_paths(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> set[Path]:
    """Leaves of ``after`` that are new or hold a different value than in ``before``."""
    if before is None:
        return leaf_paths(after)
    return {p for p in leaf_paths(after) if value_at(before, p) != value_at(after, p)}


def record_update(
    entries: list[dict[str, Any]],
    before: Mapping[str, Any] | None,
    requested: Mapping[str, Any],
    *,
    manager: str,
    api_version: str,
    now: str,
    subresource: str = "",
) -> list[dict[str, Any]]:
    """managedFields after a non-apply write by ``manager`` (create, update, patch)."""
    present = leaf_paths(requested)
    changed = changed_paths(before, requested)
    entries = [clone(e) for e in entries if e]
    # Fields the write removed are owned by nobody any more.
    survivors = []
    for entry in entries:
        paths = {
            p
            for p in from_fields_v1(entry.get("fieldsV1") or {})
            if any(_overlaps(p, q) for q in present) or p[:1] == ("status",)
        }
        if paths:
            survivors.append({**entry, "fieldsV1": to_fields_v1(paths)})
    if not changed:
        return survivors
    mine = next((e for e in survivors if _same_owner(e, manager, "Update", subresource)), None)
    owned = from_fields_v1(mine["fieldsV1"]) if mine else set()
    updated = _entry(manager, "Update", api_version, now, owned | changed, subresource)
    result = _rebuild([e for e in survivors if e is not mine] + [updated], changed, updated)
    return result


def _describe(entry: Mapping[str, Any]) -> str:
    if entry.get("operation") == "Apply":
        return f'"{entry.get("manager")}"'
    text = f'"{entry.get("manager")}" using {entry.get("apiVersion")}'
    if entry.get("subresource"):
        text += f' with subresource "{entry["subresource"]}"'
    return text


def _dotted(path: Path) -> str:
    return "".join(f".{key}" for key in path)


def server_side_apply(
    live: Mapping[str, Any] | None,
    applied: Mapping[str, Any],
    *,
    manager: str,
    force: bool,
    api_version: str,
    now: str,
    normalize: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The object after ``manager`` applies ``applied``, and its new managedFields.

    A field conflicts when the apply would change its value; ``normalize`` (the defaults
    admission fills in) is applied first, so leaving a defaulted field to its default is
    not a change.
    """
    wanted = leaf_paths(applied)
    outcome = deep_merge(live or {}, applied)
    compared = normalize(outcome) if normalize is not None else outcome
    entries = [clone(e) for e in ((live or {}).get("metadata") or {}).get("managedFields") or []]
    mine = next((e for e in entries if _same_owner(e, manager, "Apply", "")), None)
    conflicts: list[tuple[str, str]] = []
    taken: set[Path] = set()
    for entry in entries:
        if entry is mine:
            continue
        for owned in from_fields_v1(entry.get("fieldsV1") or {}):
            for path in wanted:
                if _overlaps(owned, path) and value_at(compared, path) != value_at(live, path):
                    conflicts.append((_describe(entry), _dotted(path)))
                    taken.add(path)
    if conflicts and not force:
        raise FieldConflictError(_conflict_message(conflicts), sorted(set(conflicts)))
    merged: dict[str, Any] = clone(dict(live)) if live is not None else {}
    previous = from_fields_v1(mine["fieldsV1"]) if mine else set()
    others = [p for e in entries if e is not mine for p in from_fields_v1(e.get("fieldsV1") or {})]
    for path in sorted(previous - wanted, key=len, reverse=True):
        if not any(_overlaps(path, other) for other in others) and not any(
            path[: len(w)] == w or w[: len(path)] == path for w in wanted
        ):
            _remove(merged, path)
    merged = deep_merge(merged, applied)
    applied_entry = _entry(manager, "Apply", api_version, now, wanted)
    rest = [e for e in entries if e is not mine]
    if force and taken:
        rest = _rebuild(rest, taken, applied_entry)
    return merged, [*rest, applied_entry]


def _conflict_message(conflicts: list[tuple[str, str]]) -> str:
    by_owner: dict[str, list[str]] = {}
    for owner, path in conflicts:
        by_owner.setdefault(owner, [])
        if path not in by_owner[owner]:
            by_owner[owner].append(path)
    count = sum(len(paths) for paths in by_owner.values())
    if count == 1:
        owner, paths = next(iter(by_owner.items()))
        return f"Apply failed with 1 conflict: conflict with {owner}: {paths[0]}"
    lines = [f"Apply failed with {count} conflicts:"]
    for owner, paths in by_owner.items():
        lines.append(f"conflicts with {owner}:")
        lines += [f"- {path}" for path in paths]
    return "\n".join(lines)
