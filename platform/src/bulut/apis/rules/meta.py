"""ObjectMeta rules every kind shares: names (DNS-1035 / DNS-1123), namespace, labels."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .paths import fail, mapping_at

DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


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
