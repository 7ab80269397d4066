"""Values at a JSON path: read a mapping, a list or a bounded integer, or fail naming the path.

Every rule module reports through :func:`fail`, so an error reads ``<message>: <path>`` and
carries the path as its field, the way Knative's webhook words its errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from bulut.errors import InvalidResourceError


def fail(message: str, path: str) -> NoReturn:
    """Raise the webhook-style error ``<message>: <path>``."""
    raise InvalidResourceError(f"{message}: {path}", field=path)


def mapping_at(value: Any, path: str, *, required: bool = False) -> Mapping[str, Any]:
    """``value`` as a mapping (empty when absent and optional)."""
    if value is None:
        if required:
            fail("missing field(s)", path)
        return {}
    if not isinstance(value, Mapping):
        fail(f"expected an object, got {type(value).__name__}", path)
    return value


def list_at(value: Any, path: str) -> list[Any]:
    """``value`` as a list (empty when absent)."""
    if value is None:
        return []
    if not isinstance(value, list):
        fail(f"expected a list, got {type(value).__name__}", path)
    return value


def int_at(value: Any, path: str, low: int, high: int) -> int:
    """An integer within [low, high], in Knative's ``expected low <= x <= high`` wording."""
    if isinstance(value, bool) or not isinstance(value, int):
        fail(f"invalid value: {value!r}, expected an integer", path)
    if not low <= value <= high:
        fail(f"expected {low} <= {value} <= {high}", path)
    return value
