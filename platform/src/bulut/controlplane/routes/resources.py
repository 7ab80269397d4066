"""The Kubernetes API's resource paths, with kube-apiserver's semantics.

``/api/v1/...`` and ``/apis/<group>/<version>/...``:

- ``[namespaces/<ns>/]<plural>``: GET list (or watch with ``?watch=1``), POST create,
  DELETE deletecollection; a namespaced plural without a namespace lists all of them;
- ``[namespaces/<ns>/]<plural>/<name>``: GET, PUT, PATCH, DELETE;
- ``…/<name>/status``: GET, PUT, PATCH (kinds with the status subresource).

Errors are ``Status`` objects; ``dryRun=All`` persists nothing; lists take label and field
selectors, ``limit``/``continue`` and report their ``resourceVersion``; watches resume from
one, end after ``timeoutSeconds`` and send bookmarks when allowed; ``Accept: …;as=Table``
gets the CRD's printer columns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from bulut.apis import tables
from bulut.apis.registry import ApiResource, registry
from bulut.apis.selectors import field_selector, label_selector
from bulut.apis.status import ApiError, bad_request, status, status_of
from bulut.errors import BulutError
from bulut.manifests.feed import Resource, ResourceEvent

from ..deps import KubePlane
from ..operations import WriteRequest
from ..watch import version_of
from . import encoding

router = APIRouter(include_in_schema=False)
_NOT_FOUND = "the server could not find the requested resource"
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True)
class Target:
    """What a path names: a kind, maybe a namespace, maybe an object and a subresource."""

    resource: ApiResource
    namespace: str | None  # None: all namespaces (lists) or cluster scope
    name: str | None
    subresource: str = ""


def _true(value: str | None) -> bool:
    return value is not None and value.lower() not in ("", "0", "false")


def resolve(group: str, version: str, path: str) -> Target:
    """The target of ``<root>/<path>``; 404 Status when nothing is served there."""
    parts = [p for p in path.split("/") if p]
    namespace: str | None = None
    if len(parts) >= 3 and parts[0] == "namespaces":
        namespace, parts = parts[1], parts[2:]
    if not parts or len(parts) > 3:
        raise ApiError(_NOT_FOUND, code=404)
    resource = registry().at_path(group, version, parts[0])
    if resource is None or (namespace is not None and not resource.namespaced):
        raise ApiError(_NOT_FOUND, code=404)
    name = parts[1] if len(parts) > 1 else None
    sub = parts[2] if len(parts) > 2 else ""
    if sub and not (sub == "status" and resource.status_subresource):
        raise ApiError(_NOT_FOUND, code=404)
    if resource.namespaced and namespace is None and name is not None:
        raise ApiError(_NOT_FOUND, code=404)
    return Target(resource, namespace, name, sub)


def _plane(request: Request) -> KubePlane:
    plane: KubePlane = request.app.state.control_plane
    return plane


def _dry_run(values: list[str]) -> bool:
    for value in values:
        if value != "All":
            raise ApiError(
                f'dryRun: Unsupported value: "{value}": supported values: "All"', code=422
            )
    return bool(values)


def _manager(request: Request) -> str:
    manager = request.query_params.get("fieldManager")
    if manager:
        return manager
    agent = request.headers.get("user-agent", "unknown")
    return agent.split("/", 1)[0] or "unknown"


def _validation(request: Request) -> str:
    value = request.query_params.get("fieldValidation", "Warn") or "Warn"
    if value not in ("Ignore", "Warn", "Strict"):
        raise ApiError(
            f'fieldValidation: Unsupported value: "{value}": supported values: "Ignore", '
            '"Warn", "Strict"',
            code=422,
        )
    return value


async def _handle(request: Request, group: str, version: str, path: str) -> Response:
    accept = request.headers.get("accept", "")
    target: Target | None = None
    try:
        target = resolve(group, version, path)
        return await _dispatch(request, target, accept)
    except BulutError as error:
        resource = target.resource if target else None
        name = target.name if target and target.name else getattr(request.state, "name", "")
        body = status_of(error, resource, name)
        return encoding.json_response(body, int(body["code"]))


async def _dispatch(request: Request, target: Target, accept: str) -> Response:
    method = request.method
    if target.name is None:
        if method == "GET":
            if _true(request.query_params.get("watch")):
                return await _watch(request, target, accept)
            return await _list(request, target, accept)
        if method == "POST":
            return await _write(request, target, "create", accept)
        if method == "DELETE":
            return await _delete_collection(request, target, accept)
    else:
        if method == "GET":
            found = await _plane(request).kube_get(
                target.resource, target.namespace or "", target.name
            )
            if "as=Table" in accept and not target.subresource:
                return encoding.json_response(_table(request, target.resource, [found], ""))
            return encoding.answer(found, 200, accept)
        if method == "PUT":
            return await _write(request, target, "update", accept)
        if method == "PATCH":
            return await _write(request, target, "patch", accept)
        if method == "DELETE" and not target.subresource:
            return await _delete(request, target, accept)
    verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(
        method, method.lower()
    )
    raise ApiError(
        f'{verb} is not supported on resources of kind "{target.resource.resource_name}"',
        code=405,
    )


async def _write(request: Request, target: Target, verb: str, accept: str) -> Response:
    resource = target.resource
    raw = await request.body()
    content_type = request.headers.get("content-type")
    patch_type = ""
    if verb == "patch":
        patch_type = encoding.patch_type(content_type, custom=not resource.builtin)
        body = encoding.decode_patch(raw, patch_type)
        if patch_type == "apply":
            verb = "apply"
        elif _true(request.query_params.get("force")):
            raise ApiError("force: Forbidden: may not be specified for non-apply patch", code=422)
    else:
        body = encoding.decode_object(raw, content_type)
        if isinstance(body, dict) and isinstance(body.get("metadata"), dict):
            request.state.name = str(body["metadata"].get("name") or "")
    write = WriteRequest(
        resource=resource,
        namespace=target.namespace or "",
        name=target.name,
        verb=verb,  # type: ignore[arg-type]
        body=body,
        patch_type=patch_type if patch_type != "apply" else "",  # type: ignore[arg-type]
        subresource=target.subresource,
        dry_run=_dry_run(request.query_params.getlist("dryRun")),
        manager=_manager(request),
        force=_true(request.query_params.get("force")),
        validation=_validation(request),
    )
    outcome = await _plane(request).kube_write(write)
    headers = {"Warning": ", ".join(f'299 - "{w}"' for w in outcome.warnings)}
    code = 201 if outcome.created else 200
    return encoding.answer(outcome.object, code, accept, headers if outcome.warnings else None)


async def _delete_options(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if raw.strip():
        options = encoding.decode_object(raw, request.headers.get("content-type"))
        if not isinstance(options, dict):
            raise bad_request("DeleteOptions must be an object")
        return options
    query = request.query_params
    return {
        "propagationPolicy": query.get("propagationPolicy", ""),
        "dryRun": query.getlist("dryRun"),
    }


async def _delete(request: Request, target: Target, accept: str) -> Response:
    resource, name = target.resource, target.name or ""
    options = await _delete_options(request)
    last, gone = await _plane(request).kube_delete(
        resource,
        target.namespace or "",
        name,
        propagation=str(options.get("propagationPolicy") or ""),
        dry_run=_dry_run(list(options.get("dryRun") or [])),
    )
    if not gone:
        return encoding.answer(last, 200, accept)
    details = {
        "name": name,
        "group": resource.group,
        "kind": resource.plural,
        "uid": last["metadata"].get("uid", ""),
    }
    return encoding.json_response(status("", code=200, details=details))


async def _delete_collection(request: Request, target: Target, accept: str) -> Response:
    options = await _delete_options(request)
    query = request.query_params
    deleted = await _plane(request).kube_delete_collection(
        target.resource,
        target.namespace,
        labels=query.get("labelSelector", ""),
        field_text=query.get("fieldSelector", ""),
        dry_run=_dry_run(list(options.get("dryRun") or [])),
    )
    body = {
        "kind": target.resource.list_kind,
        "apiVersion": target.resource.api_version,
        "metadata": {},
        "items": deleted,
    }
    return encoding.answer(body, 200, accept)


def _int(request: Request, name: str) -> int:
    text = request.query_params.get(name) or "0"
    if not text.isdigit():
        raise bad_request(f"{name}: Invalid value: {text!r}: must be a non-negative integer")
    return int(text)


def _table(
    request: Request, resource: ApiResource, items: list[Resource], version: str, token: str = ""
) -> dict[str, Any]:
    include = request.query_params.get("includeObject", "Metadata")
    if include not in ("None", "Metadata", "Object"):
        raise bad_request(f'includeObject: Unsupported value: "{include}"')
    return tables.table(
        resource, items, resource_version=version, continue_token=token, include=include
    )


async def _list(request: Request, target: Target, accept: str) -> Response:
    query = request.query_params
    if _true(query.get("sendInitialEvents")):
        raise ApiError("sendInitialEvents is only allowed with watch=true", code=422)
    page = await _plane(request).kube_list(
        target.resource,
        target.namespace,
        labels=query.get("labelSelector", ""),
        field_text=query.get("fieldSelector", ""),
        limit=_int(request, "limit"),
        continue_token=query.get("continue", ""),
    )
    if "as=Table" in accept:
        body = _table(
            request, target.resource, page.items, page.resource_version, page.continue_token
        )
        return encoding.json_response(body)
    metadata: dict[str, Any] = {"resourceVersion": page.resource_version}
    if page.continue_token:
        metadata["continue"] = page.continue_token
        metadata["remainingItemCount"] = page.remaining
    body = {
        "kind": target.resource.list_kind,
        "apiVersion": target.resource.api_version,
        "metadata": metadata,
        "items": page.items,
    }
    return encoding.answer(body, 200, accept)


def _bookmark(resource: ApiResource, version: int, *, initial_end: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": str(version)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {
        "type": "BOOKMARK",
        "object": {"kind": resource.kind, "apiVersion": resource.api_version, "metadata": meta},
    }


async def _watch(request: Request, target: Target, accept: str) -> Response:
    query = request.query_params
    resource = target.resource
    labels = label_selector(query.get("labelSelector"))
    fields = field_selector(query.get("fieldSelector"), namespaced=resource.namespaced)
    timeout = _int(request, "timeoutSeconds")
    bookmarks = _true(query.get("allowWatchBookmarks"))
    initial_events = _true(query.get("sendInitialEvents"))
    text = query.get("resourceVersion", "")
    if text and not text.isdigit():
        raise bad_request(f"resourceVersion: Invalid value: {text!r}")
    since = None if initial_events or text in ("", "0") else int(text)
    plane = _plane(request)
    first, subscription, version = await plane.kube_watch(resource, since)
    as_table = "as=Table" in accept
    scope = target.namespace if resource.namespaced else None

    def wanted(event: ResourceEvent) -> bool:
        obj = event["object"]
        if scope is not None and obj.get("metadata", {}).get("namespace") != scope:
            return False
        return labels(obj) and fields(obj)

    def line(event: Mapping[str, Any], columns: list[bool]) -> bytes:
        obj: Any = event["object"]
        if as_table and event["type"] != "BOOKMARK":
            obj = _table(request, resource, [event["object"]], "")
            if columns[0]:
                columns[0] = False
            else:
                obj.pop("columnDefinitions", None)
            obj["metadata"]["resourceVersion"] = str(
                event["object"].get("metadata", {}).get("resourceVersion", "")
            )
        return orjson.dumps({"type": event["type"], "object": obj}) + b"\n"

    async def stream() -> AsyncIterator[bytes]:
        deadline = time.monotonic() + timeout if timeout else None
        columns = [True]
        try:
            for earlier in first:
                if wanted(earlier):
                    yield line(earlier, columns)
            if initial_events:
                yield line(_bookmark(resource, version, initial_end=True), columns)
            while True:
                wait = None if deadline is None else max(0.0, deadline - time.monotonic())
                if wait is not None and wait <= 0:
                    return
                try:
                    event = await asyncio.wait_for(subscription.next(), timeout=wait)
                except TimeoutError:
                    if bookmarks:
                        yield line(_bookmark(resource, version), columns)
                    return
                if event is None:
                    return
                version_seen = version_of(event)
                if wanted(event):
                    yield line(event, columns)
                elif bookmarks and version_seen:
                    yield line(_bookmark(resource, version_seen), columns)
        finally:
            plane.end_watch(subscription)

    return StreamingResponse(stream(), media_type="application/json")


async def core_resources(request: Request, path: str) -> Response:
    """``/api/v1/<path>``."""
    return await _handle(request, "", "v1", path)


async def group_resources(request: Request, group: str, version: str, path: str) -> Response:
    """``/apis/<group>/<version>/<path>``."""
    return await _handle(request, group, version, path)


router.add_api_route("/api/v1/{path:path}", core_resources, methods=_METHODS)
router.add_api_route("/apis/{group}/{version}/{path:path}", group_resources, methods=_METHODS)
