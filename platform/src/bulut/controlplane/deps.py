"""Named dependencies for the routes (``Annotated`` aliases)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from fastapi import Depends, Request

from bulut.manifests.feed import Resource, ResourceEvent

from .models import ApplyResult

if TYPE_CHECKING:
    from bulut.apis.registry import ApiResource

    from .operations import Page, WriteOutcome, WriteRequest
    from .watch import Subscription

ResourceList = list[dict[str, Any]]
ApplyResults = list[ApplyResult]


class ResourceAPI(Protocol):
    """What the routes need from the control plane (ControlPlane satisfies it)."""

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]: ...
    async def list(self, kind: str, namespace: str | None = None) -> ResourceList: ...
    async def create(
        self, document: Mapping[str, Any], namespace: str | None = None
    ) -> Resource: ...
    async def replace(
        self, document: Mapping[str, Any], namespace: str | None = None
    ) -> Resource: ...
    async def patch(
        self, kind: str, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> Resource: ...
    async def delete(self, kind: str, namespace: str, name: str) -> None: ...
    async def report(
        self, kind: str, namespace: str, name: str, runtime: Mapping[str, Any]
    ) -> None: ...
    async def apply(
        self,
        documents: Sequence[Mapping[str, Any]],
        *,
        namespace: str | None = None,
        dry_run: bool = False,
    ) -> ApplyResults: ...
    def watch(self, kinds: frozenset[str]) -> AsyncIterator[ResourceEvent]: ...
    async def ready(self) -> bool: ...


def get_resources(request: Request) -> ResourceAPI:
    """The control plane behind this app."""
    plane: ResourceAPI = request.app.state.control_plane
    return plane


Resources = Annotated[ResourceAPI, Depends(get_resources)]


class KubePlane(Protocol):
    """What the Kubernetes API routes need (ControlPlane satisfies it)."""

    async def kube_write(self, request: WriteRequest) -> WriteOutcome: ...
    async def kube_get(self, resource: ApiResource, namespace: str, name: str) -> Resource: ...
    async def kube_list(
        self, resource: ApiResource, namespace: str | None, **options: Any
    ) -> Page: ...
    async def kube_delete(
        self, resource: ApiResource, namespace: str, name: str, *, propagation: str, dry_run: bool
    ) -> tuple[Resource, bool]: ...
    async def kube_delete_collection(
        self,
        resource: ApiResource,
        namespace: str | None,
        *,
        labels: str,
        field_text: str,
        dry_run: bool,
    ) -> list[Resource]: ...
    async def kube_watch(
        self, resource: ApiResource, since: int | None
    ) -> tuple[list[ResourceEvent], Subscription, int]: ...
    def end_watch(self, subscription: Subscription) -> None: ...
