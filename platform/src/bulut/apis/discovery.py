"""Discovery documents (pure): what ``/api``, ``/apis`` and ``/apis/<g>/<v>`` answer.

Legacy discovery (``APIVersions``, ``APIGroupList``, ``APIResourceList``) serves every client;
aggregated discovery (``apidiscovery.k8s.io/v2`` ``APIGroupDiscoveryList``) answers clients
that ask for it in ``Accept`` (kubectl), in two requests instead of one per group.
"""

from __future__ import annotations

from typing import Any

from .registry import ALL_VERBS, SUBRESOURCE_VERBS, ApiResource, Registry

KUBERNETES_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4"}
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def version_info(bulut_version: str) -> dict[str, str]:
    """``GET /version``: the Kubernetes API level served (kubectl warns on skew)."""
    return {
        **KUBERNETES_VERSION,
        "gitCommit": f"bulut-{bulut_version}",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.6",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def verbs_of(resource: ApiResource) -> list[str]:
    """The verbs of a kind (namespaces have no deletecollection, as on a cluster)."""
    if resource.kind == "Namespace":
        return [v for v in ALL_VERBS if v != "deletecollection"]
    return list(ALL_VERBS)


def _with_names(entry: dict[str, Any], resource: ApiResource) -> dict[str, Any]:
    """Add ``shortNames`` and ``categories`` when the kind has them."""
    if resource.short_names:
        entry["shortNames"] = list(resource.short_names)
    if resource.categories:
        entry["categories"] = list(resource.categories)
    return entry


def api_versions(server_address: str) -> dict[str, Any]:
    """``GET /api``."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def resource_list(registry: Registry, group: str, version: str) -> dict[str, Any]:
    """``GET /api/v1`` or ``GET /apis/<g>/<v>``: an APIResourceList."""
    resources: list[dict[str, Any]] = []
    for resource in registry.in_group(group, version):
        entry: dict[str, Any] = {
            "name": resource.plural,
            "singularName": resource.singular,
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": verbs_of(resource),
        }
        resources.append(_with_names(entry, resource))
        if resource.status_subresource:
            resources.append(
                {
                    "name": f"{resource.plural}/status",
                    "singularName": "",
                    "namespaced": resource.namespaced,
                    "kind": resource.kind,
                    "verbs": list(SUBRESOURCE_VERBS),
                }
            )
    group_version = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


def _group(group: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": dict(entries[0])}


def _named_groups(registry: Registry) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for group, version in registry.groups():
        if group:
            groups.setdefault(group, []).append(version)
    return groups


def group_list(registry: Registry) -> dict[str, Any]:
    """``GET /apis``: an APIGroupList (the core group is not in it)."""
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(g, vs) for g, vs in sorted(_named_groups(registry).items())],
    }


def api_group(registry: Registry, group: str) -> dict[str, Any] | None:
    """``GET /apis/<g>``: an APIGroup, None when the group is not served."""
    versions = _named_groups(registry).get(group)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(group, versions)}


def _aggregated_resource(resource: ApiResource) -> dict[str, Any]:
    kind = {"group": resource.group, "version": resource.version, "kind": resource.kind}
    entry: dict[str, Any] = {
        "resource": resource.plural,
        "responseKind": kind,
        "scope": "Namespaced" if resource.namespaced else "Cluster",
        "singularResource": resource.singular,
        "verbs": verbs_of(resource),
    }
    _with_names(entry, resource)
    if resource.status_subresource:
        entry["subresources"] = [
            {"subresource": "status", "responseKind": kind, "verbs": list(SUBRESOURCE_VERBS)}
        ]
    return entry


def aggregated(registry: Registry, *, core: bool) -> dict[str, Any]:
    """``GET /api`` (core) or ``GET /apis`` with the aggregated ``Accept``."""
    items = []
    groups = [("", ["v1"])] if core else sorted(_named_groups(registry).items())
    for group, versions in groups:
        items.append(
            {
                "metadata": {"name": group},
                "versions": [
                    {
                        "version": version,
                        "freshness": "Current",
                        "resources": [
                            _aggregated_resource(r) for r in registry.in_group(group, version)
                        ],
                    }
                    for version in versions
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }


def wants_aggregated(accept: str) -> bool:
    """True when the client listed the v2 aggregated form before plain JSON."""
    for part in accept.split(","):
        params = {p.strip() for p in part.split(";")[1:]}
        if {"g=apidiscovery.k8s.io", "v=v2", "as=APIGroupDiscoveryList"} <= params:
            return True
    return False
