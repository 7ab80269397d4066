"""The GitOps API on the control plane: what `bulut gitops` and the dashboard call.

GET    /gitops/apps                     every application with sync and health
POST   /gitops/apps                     add one (body: name, repo, path, revision, ...)
GET    /gitops/apps/{name}              one, with each object's status
DELETE /gitops/apps/{name}?cascade=     forget it (and delete what it manages)
GET    /gitops/apps/{name}/diff         live → desired diffs of objects out of sync
GET    /gitops/apps/{name}/history      the newest syncs
POST   /gitops/{name}/sync?wait=        sync now: 202 at once (a push webhook), or the
                                        finished sync's record with ``wait=true``
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from .application import DEFAULT_INTERVAL, Application, SyncRecord
from .controller import ApplicationStatus, GitOpsController, ObjectStatus


class ApplicationRequest(BaseModel):
    """What `bulut gitops add` sends."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str
    repo: str
    path: str = "."
    revision: str = "HEAD"
    namespace: str | None = None
    prune: bool = True
    self_heal: bool = Field(default=True, alias="selfHeal")
    interval: float = DEFAULT_INTERVAL


def record_json(record: SyncRecord | None) -> dict[str, Any] | None:
    """A sync record as JSON."""
    return asdict(record) if record is not None else None


def object_json(item: ObjectStatus) -> dict[str, Any]:
    """One managed object's status as JSON."""
    return {
        "group": item.ref.group,
        "kind": item.ref.kind,
        "namespace": item.ref.namespace,
        "name": item.ref.name,
        "sync": item.sync.value,
        "health": item.health.status.value,
        "message": item.health.message,
        "wave": item.wave,
    }


def status_json(status: ApplicationStatus, *, objects: bool = True) -> dict[str, Any]:
    """An application's status as JSON (the objects only when asked for)."""
    app = status.app
    body: dict[str, Any] = {
        "name": app.name,
        "repo": app.repo,
        "path": app.path,
        "revision": app.revision,
        "namespace": app.namespace,
        "prune": app.prune,
        "selfHeal": app.self_heal,
        "interval": app.interval,
        "sync": status.sync.value,
        "health": status.health.value,
        "commit": asdict(status.revision) if status.revision else None,
        "lastSync": record_json(status.last_sync),
        "error": status.error,
    }
    if objects:
        body["objects"] = [object_json(item) for item in status.objects]
    return body


def create_router(controller: GitOpsController) -> APIRouter:
    """The routes, bound to one controller."""
    router = APIRouter(prefix="/gitops", tags=["gitops"])

    @router.get("/apps", summary="Every application with its sync status and health")
    async def list_apps() -> list[dict[str, Any]]:
        return [
            status_json(await controller.status(app.name), objects=False)
            for app in controller.applications()
        ]

    @router.post("/apps", status_code=201, summary="Add an application (syncs at once)")
    async def add_app(request: ApplicationRequest) -> dict[str, Any]:
        app = controller.add(Application(**request.model_dump()))
        return status_json(await controller.status(app.name))

    @router.get("/apps/{name}", summary="One application and the objects it manages")
    async def get_app(name: str) -> dict[str, Any]:
        return status_json(await controller.status(name))

    @router.delete("/apps/{name}", summary="Forget an application")
    async def delete_app(
        name: str,
        cascade: Annotated[bool, Query(description="Delete the objects it manages too.")] = True,
    ) -> dict[str, Any]:
        return {"name": name, "deleted": await controller.remove(name, cascade=cascade)}

    @router.get("/apps/{name}/diff", summary="Live → desired diffs of the objects out of sync")
    async def diff_app(name: str) -> dict[str, Any]:
        diffs = await controller.diff(name)
        return {"name": name, "diffs": [{"object": str(ref), "diff": text} for ref, text in diffs]}

    @router.get("/apps/{name}/history", summary="The newest syncs, oldest first")
    async def history(name: str) -> list[dict[str, Any] | None]:
        return [record_json(record) for record in controller.history(name)]

    @router.post("/{name}/sync", summary="Sync now (a push webhook), or wait for the result")
    async def sync(
        name: str,
        wait: Annotated[bool, Query(description="Answer with the finished sync.")] = False,
    ) -> Any:
        if wait:
            return record_json(await controller.sync(name))
        controller.poke(name)
        return JSONResponse({"name": name, "accepted": True}, status_code=202)

    return router
