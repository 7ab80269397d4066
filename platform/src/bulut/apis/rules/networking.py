"""networking.internal.knative.dev/v1alpha1 ClusterDomainClaim: which namespace may map a
domain (knative-kinds §8.3). Cluster-scoped; its name is the domain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .meta import DNS1123_LABEL, check_dns1123_subdomain
from .paths import fail, mapping_at


def validate_clusterdomainclaim(resource: Mapping[str, Any]) -> None:
    """The name is a domain; ``spec.namespace`` (required) is a namespace name."""
    meta = mapping_at(resource.get("metadata"), "metadata", required=True)
    check_dns1123_subdomain(meta.get("name"), "metadata.name")
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    namespace = spec.get("namespace")
    if not isinstance(namespace, str) or not namespace:
        fail("missing field(s)", "spec.namespace")
    if len(namespace) > 63 or not DNS1123_LABEL.match(namespace):
        fail(f"invalid value: {namespace}", "spec.namespace")
