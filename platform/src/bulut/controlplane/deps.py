"""Named dependencies for the routes (``Annotated`` aliases)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from bulut.manifests.feed import Resource, ResourceEvent

from .models import ApplyResult

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
