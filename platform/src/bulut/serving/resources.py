"""What the runtime reads from a Revision object (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulut.manifests.feed import Resource


def first_container(obj: Resource) -> dict[str, Any]:
    """``spec.containers[0]`` of a Revision (empty when absent)."""
    containers = (obj.get("spec") or {}).get("containers") or [{}]
    first = containers[0]
    return first if isinstance(first, dict) else {}


def readiness_path(container: Mapping[str, Any], kn_func: bool) -> str:
    """The HTTP readiness path to poll, or "" for a TCP probe."""
    probe = container.get("readinessProbe") or {}
    if isinstance(probe, Mapping):
        if isinstance(probe.get("httpGet"), Mapping):
            return str(probe["httpGet"].get("path") or "/")
        if "tcpSocket" in probe:
            return ""
    return "/health/readiness" if kn_func else ""
