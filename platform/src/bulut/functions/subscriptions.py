"""`bulut func subscribe`: add a broker subscription to func.yaml, as `kn func subscribe` does.

``deploy.subscriptions`` is a list of ``{source: <broker>, filters: {attribute: value}}``;
`bulut func deploy` (and `kn func deploy`) turn each into a Trigger. Subscribing twice with
the same broker and filters changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bulut.errors import InvalidInputError


def parse_filters(values: list[str]) -> dict[str, str]:
    """``--filter type=com.example`` items as a mapping; each needs a name and ``=``."""
    filters: dict[str, str] = {}
    for value in values:
        name, sep, wanted = value.partition("=")
        if not sep or not name.strip():
            raise InvalidInputError(
                f"--filter {value!r}: expected ATTRIBUTE=VALUE, e.g. type=com.example.order",
                field="--filter",
            )
        filters[name.strip()] = wanted
    return filters


def add_subscription(
    func_yaml: Mapping[str, Any], source: str, filters: Mapping[str, str]
) -> tuple[dict[str, Any], bool]:
    """func.yaml with the subscription added, and whether it was new."""
    if not source:
        raise InvalidInputError("--source names the broker (default: default)", field="--source")
    data = dict(func_yaml)
    deploy = dict(data.get("deploy") or {})
    subscriptions = list(deploy.get("subscriptions") or [])
    entry = {"source": source, "filters": dict(filters)}
    if any(_same(entry, existing) for existing in subscriptions):
        return data, False
    subscriptions.append(entry)
    deploy["subscriptions"] = subscriptions
    data["deploy"] = deploy
    return data, True


def _same(entry: Mapping[str, Any], existing: Any) -> bool:
    return isinstance(existing, Mapping) and (
        existing.get("source") == entry["source"]
        and dict(existing.get("filters") or {}) == entry["filters"]
    )


def write_func_yaml(path: Path, data: Mapping[str, Any]) -> None:
    """Write func.yaml, keeping the comment lines at its top (other comments are lost, as
    `kn func` loses them too)."""
    original = path.read_text(encoding="utf-8") if path.is_file() else ""
    header = []
    for line in original.splitlines():
        if not line.startswith("#"):
            break
        header.append(line)
    body = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True)
    path.write_text("\n".join([*header, body]) if header else body, encoding="utf-8")
