"""Operations on JSON documents: a fast deep copy, and JSON merge patch (RFC 7386)."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


def clone(value: T) -> T:
    """A deep copy of JSON data (dicts, lists, scalars); several times faster than deepcopy."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list):
        return [clone(v) for v in value]  # type: ignore[return-value]
    return value


def merge_patch(target: Any, patch: Any) -> Any:
    """``target`` with ``patch`` merged in: null deletes, mappings merge, the rest replaces."""
    if not isinstance(patch, dict):
        return clone(patch)
    result = clone(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
