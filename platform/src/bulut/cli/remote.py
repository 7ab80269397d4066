"""The control plane over HTTP, as the async protocol the developer's loop uses.

:class:`RemoteResources` offers ``apply``, ``get``, ``patch`` and ``delete`` like the in-process
:class:`~bulut.controlplane.ControlPlane`, so `bulut func deploy --watch` runs the same code
against a platform started elsewhere by `bulut up`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from bulut.errors import BulutError
from bulut.settings import Settings

from .resources import collection, error_from

MERGE_PATCH = "application/merge-patch+json"


class RemoteResources:
    """JSON over HTTP to the control plane; error answers become BulutErrors."""

    def __init__(self, settings: Settings) -> None:
        self.base_url = settings.control_url
        self._client = httpx.AsyncClient(base_url=self.base_url, timeout=60)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.TransportError:
            raise BulutError(
                f"control plane not reachable at {self.base_url}: start it with `bulut up`"
            ) from None
        if response.status_code >= 400:
            raise error_from(response)
        return response.json()

    async def apply(
        self,
        documents: Sequence[Mapping[str, Any]],
        *,
        namespace: str | None = None,
        dry_run: bool = False,
    ) -> Any:
        """Apply documents atomically (the control plane's bulut.dev/v1 apply)."""
        body = {"documents": list(documents), "namespace": namespace, "dry_run": dry_run}
        return await self._request("POST", "/apis/bulut.dev/v1/apply", json=body)

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        """One resource."""
        found: dict[str, Any] = await self._request("GET", f"{collection(kind, namespace)}/{name}")
        return found

    async def patch(self, kind: str, namespace: str, name: str, patch: Mapping[str, Any]) -> Any:
        """A JSON merge patch of one resource."""
        return await self._request(
            "PATCH",
            f"{collection(kind, namespace)}/{name}",
            json=dict(patch),
            headers={"content-type": MERGE_PATCH},
        )

    async def delete(self, kind: str, namespace: str, name: str) -> None:
        """Delete one resource."""
        await self._request("DELETE", f"{collection(kind, namespace)}/{name}")
