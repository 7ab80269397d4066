"""Shared checks: names, labels, mappings and lists at a JSON path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NoReturn

from bulut.errors import InvalidResourceError

DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


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


def check_dns1035(name: Any, path: str) -> None:
    """A DNS-1035 label: lowercase, starts with a letter, at most 63 characters."""
    if not isinstance(name, str) or not name:
        fail("missing field(s)", path)
    if len(name) > 63 or not DNS1035_LABEL.match(name):
        fail(
            f"invalid value: {name}: a DNS-1035 label must consist of lower case alphanumeric "
            "characters or '-', start with an alphabetic character, and end with an "
            "alphanumeric character",
            path,
        )


def check_dns1123_subdomain(name: Any, path: str) -> None:
    """A DNS-1123 subdomain, at most 253 characters."""
    if not isinstance(name, str) or not name:
        fail("missing field(s)", path)
    if len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        fail(
            f"invalid value: {name}: a lowercase RFC 1123 subdomain must consist of lower "
            "case alphanumeric characters, '-' or '.'",
            path,
        )


def validate_metadata(resource: Mapping[str, Any], *, dns1035: bool) -> None:
    """metadata.name (DNS-1035 for Serving kinds, subdomain otherwise) and namespace."""
    meta = mapping_at(resource.get("metadata"), "metadata", required=True)
    if dns1035:
        check_dns1035(meta.get("name"), "metadata.name")
    else:
        check_dns1123_subdomain(meta.get("name"), "metadata.name")
    namespace = meta.get("namespace", "default")
    if not isinstance(namespace, str) or len(namespace) > 63 or not DNS1123_LABEL.match(namespace):
        fail(f"invalid value: {namespace}", "metadata.namespace")
    for key in ("labels", "annotations"):
        for k, v in mapping_at(meta.get(key), f"metadata.{key}").items():
            if not isinstance(v, str):
                fail(f"expected a string, got {type(v).__name__}", f"metadata.{key}.{k}")


def check_destination(value: Any, path: str) -> None:
    """A duck Destination: ``ref`` (kind, name, apiVersion) and/or an absolute ``uri``."""
    dest = mapping_at(value, path, required=True)
    ref, uri = dest.get("ref"), dest.get("uri")
    if not ref and not uri:
        fail("expected exactly one, got neither", f"{path}.ref, {path}.uri")
    if ref:
        ref_map = mapping_at(ref, f"{path}.ref")
        for key in ("kind", "name", "apiVersion"):
            if not ref_map.get(key):
                fail("missing field(s)", f"{path}.ref.{key}")
    if uri is not None and not isinstance(uri, str):
        fail("expected a string", f"{path}.uri")
    if uri and not ref and "://" not in uri:
        fail(f"invalid value: relative URI is not allowed without a ref: {uri}", f"{path}.uri")
