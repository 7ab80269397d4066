"""How the data plane learns desired state and reports what it runs.

The control plane owns Knative resources. The data plane (serving, eventing) never
imports it: it consumes a :class:`ResourceFeed`, whose events carry plain Knative JSON
(the same objects `GET /apis/...` returns), and it reports runtime facts back as JSON.
In `bulut up` the control plane object itself satisfies the protocol in-process; a
remote data plane could satisfy it over HTTP watch, exactly like a Kubernetes informer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, Literal, Protocol, TypedDict

EventType = Literal["ADDED", "MODIFIED", "DELETED"]
Resource = dict[str, Any]
# Kinds whose objects change how others run (a SinkBinding adds K_SINK to a Revision's
# pods; ConfigMaps hold config-defaults and config-autoscaler). A watch lists them first.
CONFIGURING_KINDS = ("ConfigMap", "SinkBinding")


class ResourceEvent(TypedDict):
    """One change to one resource, Kubernetes watch style."""

    type: EventType
    object: Resource


class ResourceFeed(Protocol):
    """Desired state in, runtime status out."""

    def watch(
        self, kinds: frozenset[str], *, existing: bool = True
    ) -> AsyncIterator[ResourceEvent]:
        """Yield ADDED for every existing resource of these kinds, then every change.

        ``kinds`` are Knative kind names: ``Revision``, ``Route``, ``Service``,
        ``Broker``, ``Trigger``, ``PingSource``, ``SinkBinding``. Existing resources
        come in :func:`initial_order`. ``existing=False`` skips them: only the changes
        from now on (a Kubernetes watch from the current resourceVersion, which is how
        an ApiServerSource's informer sees the API: nothing for objects that exist).
        """
        ...

    async def report(
        self, kind: str, namespace: str, name: str, runtime: Mapping[str, Any]
    ) -> None:
        """Merge runtime facts (see docs/architecture.md, "Runtime reports") into status."""
        ...


def initial_order(resources: Iterable[Resource]) -> list[Resource]:
    """Existing resources as a watch lists them: :data:`CONFIGURING_KINDS` first.

    A Knative controller reconciles only once every informer has synced, so it never
    builds a Revision's pods without the SinkBinding that shapes them. A feed consumer
    gets the same guarantee from the order (otherwise, on every restart, a bound
    Revision would start once without K_SINK and again with it: two zygote imports).
    The sort is stable: other resources keep the feed's own order.
    """
    rank = {kind: place for place, kind in enumerate(CONFIGURING_KINDS)}
    return sorted(resources, key=lambda r: rank.get(str(r.get("kind")), len(rank)))


def key_of(resource: Mapping[str, Any]) -> tuple[str, str, str]:
    """(kind, namespace, name) of a resource."""
    meta = resource.get("metadata", {})
    return (
        str(resource.get("kind", "")),
        str(meta.get("namespace", "default")),
        str(meta.get("name", "")),
    )
