"""The Kubernetes API's verbs over one store transaction (create, update, patch, apply, delete).

Each function runs inside one database transaction (the caller holds the write lock): it
reads what it needs, runs admission (validation, defaults, update rules), records
managedFields, and, unless it is a dry run, reconciles the namespace and stores the
result. Any error raises before anything is written, so a failed request changes nothing.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from bulut.apis import fields, patches, schema
from bulut.apis.registry import ApiResource
from bulut.apis.rules import with_defaults
from bulut.apis.selectors import field_selector, label_selector
from bulut.apis.status import AlreadyExistsError, ApiError, bad_request, not_found
from bulut.errors import ConflictError, InvalidResourceError
from bulut.manifests.feed import Resource, ResourceEvent

from . import domains, namespaces
from .addresses import Addressing
from .admission import Admitted
from .reconcilers import reconcile_namespace
from .reconcilers.ownership import Objects
from .store import Transaction

Verb = Literal["create", "update", "patch", "apply"]
PatchType = Literal["json", "merge", "strategic", ""]
Events = list[ResourceEvent]
Admit = Callable[[Transaction, Resource, str, str], Admitted]
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


@dataclass(frozen=True)
class WriteRequest:
    """One create, update (PUT), patch or server-side apply."""

    resource: ApiResource
    namespace: str  # "" for cluster-scoped kinds
    name: str | None
    verb: Verb
    body: Any
    patch_type: PatchType = ""
    subresource: str = ""
    dry_run: bool = False
    manager: str = ""
    force: bool = False
    validation: str = "Warn"


@dataclass
class WriteOutcome:
    """The object as stored (or as it would be, in a dry run), and what to tell the client."""

    object: Resource
    created: bool
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    """One page of a list."""

    items: list[Resource]
    resource_version: str
    continue_token: str = ""
    remaining: int | None = None


def _key(resource: ApiResource, document: Resource) -> tuple[str, str, str]:
    meta = document.get("metadata") or {}
    namespace = str(meta.get("namespace") or "") if resource.namespaced else ""
    return (resource.key, namespace, str(meta.get("name") or ""))


def _check_identity(request: WriteRequest, document: Any) -> Resource:
    """The body as an object of this kind in this namespace (400 when it says otherwise)."""
    resource = request.resource
    if not isinstance(document, dict):
        raise bad_request(f"the body of the request is not a {resource.kind} object")
    document.setdefault("apiVersion", resource.api_version)
    document.setdefault("kind", resource.kind)
    if (document["apiVersion"], document["kind"]) != (resource.api_version, resource.kind):
        raise bad_request(
            f"the API version in the data ({document['apiVersion']}) does not match the "
            f"expected API version ({resource.api_version})"
            if document["kind"] == resource.kind
            else f"invalid object type: {document['apiVersion']}, Kind={document['kind']}"
        )
    meta = document.get("metadata")
    if meta is None:
        meta = document["metadata"] = {}
    if not isinstance(meta, dict):
        raise bad_request("metadata must be an object")
    if resource.namespaced:
        if meta.get("namespace") in (None, ""):
            meta["namespace"] = request.namespace
        elif meta["namespace"] != request.namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
    else:
        meta.pop("namespace", None)
    if request.name is not None:
        if meta.get("name") in (None, ""):
            meta["name"] = request.name
        elif meta["name"] != request.name:
            raise bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({request.name})"
            )
    return document


def _patched(request: WriteRequest, live: Resource) -> Resource:
    if request.patch_type == "json":
        result = patches.json_patch(live, request.body)
    elif request.patch_type == "strategic":
        result = patches.strategic_merge(live, request.body)
    else:
        result = patches.merge_patch(live, request.body)
    if not isinstance(result, dict):
        raise bad_request("the patch did not produce an object")
    # metadata.resourceVersion in a patch is a precondition; without one, none is checked.
    if request.patch_type != "json" and isinstance(request.body, dict):
        sent = (request.body.get("metadata") or {}).get("resourceVersion")
        if sent is None:
            result.setdefault("metadata", {}).pop("resourceVersion", None)
    else:
        result.setdefault("metadata", {}).pop("resourceVersion", None)
    return result


def _generate_name(tx: Transaction, resource: ApiResource, namespace: str, prefix: str) -> str:
    for _ in range(8):
        candidate = prefix[:58] + "".join(random.choices(_NAME_CHARS, k=5))
        if tx.get(resource.key, namespace, candidate) is None:
            return candidate
    raise AlreadyExistsError(f"{resource.resource_name} could not generate a unique name")


def desired_object(
    tx: Transaction, request: WriteRequest, live: Resource | None, now: str
) -> tuple[Resource, Resource, list[dict[str, Any]] | None]:
    """(requested object, the object the managers' view is computed on, SSA managedFields)."""
    resource = request.resource
    if request.verb == "apply":
        if not isinstance(request.body, dict):
            raise bad_request("the applied configuration is not an object")
        applied = _check_identity(request, patches.clone(request.body))
        if "managedFields" in applied["metadata"]:
            raise bad_request("metadata.managedFields must be nil")
        if not request.manager:
            raise ApiError(
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is '
                "required for apply patch",
                code=422,
                details={
                    "causes": [
                        {
                            "reason": "FieldValueRequired",
                            "field": "fieldManager",
                            "message": "Required value: is required for apply patch",
                        }
                    ]
                },
            )
        merged, managed = fields.server_side_apply(
            live,
            applied,
            manager=request.manager,
            force=request.force,
            api_version=resource.api_version,
            now=now,
            normalize=with_defaults,
        )
        merged.setdefault("metadata", {}).pop("resourceVersion", None)
        if applied["metadata"].get("resourceVersion"):
            merged["metadata"]["resourceVersion"] = applied["metadata"]["resourceVersion"]
        return merged, merged, managed
    if request.verb == "patch":
        if live is None:
            raise not_found(
                resource.resource_name,
                request.name or "",
                group=resource.group,
                plural=resource.plural,
            )
        requested = _patched(request, live)
        return _check_identity(request, requested), requested, None
    requested = _check_identity(request, patches.clone(request.body))
    if request.verb == "create":
        meta = requested["metadata"]
        if not meta.get("name"):
            if meta.get("generateName"):
                meta["name"] = _generate_name(
                    tx, resource, request.namespace, str(meta["generateName"])
                )
            else:
                raise ApiError(
                    f'{resource.kind}.{resource.group} "" is invalid: metadata.name: Required '
                    "value: name or generateName is required",
                    code=422,
                    details={
                        "kind": resource.kind,
                        "group": resource.group,
                        "causes": [
                            {
                                "reason": "FieldValueRequired",
                                "field": "metadata.name",
                                "message": "Required value: name or generateName is required",
                            }
                        ],
                    },
                )
    return requested, requested, None


def check_fields(request: WriteRequest, document: Resource) -> list[str]:
    """Warnings for unknown fields; 400 under ``fieldValidation=Strict``."""
    if request.validation == "Ignore":
        return []
    unknown = schema.unknown_fields(document, request.resource.schema)
    if unknown and request.validation == "Strict":
        resource = request.resource
        listed = ", ".join(f'unknown field "{path}"' for path in unknown)
        raise bad_request(
            f'{resource.kind} in version "{resource.version}" cannot be handled as a '
            f"{resource.kind}: strict decoding error: {listed}"
        )
    return [f'unknown field "{path}"' for path in unknown]


def ensure_namespace(tx: Transaction, namespace: str, addressing: Addressing) -> Events:
    """Create the Namespace object for ``namespace`` if it has none (namespaces appear on use)."""
    if not namespace or tx.get("Namespace", "", namespace) is not None:
        return []
    created = namespaces.implied(namespace, uid=addressing.new_uid(), now=addressing.now())
    return tx.write("", {}, {("Namespace", namespace): created})


def store(
    tx: Transaction,
    resource: ApiResource,
    namespace: str,
    name: str,
    final: Resource | None,
    addressing: Addressing,
) -> tuple[Resource | None, Events]:
    """Write one object (None: remove it), reconcile its namespace; the stored object."""
    events = ensure_namespace(tx, namespace, addressing) if final is not None else []
    before = tx.load_namespace(namespace)
    staged: Objects = dict(before)
    if final is None:
        staged.pop((resource.key, name), None)
    else:
        staged[(resource.key, name)] = final
    after = reconcile_namespace(staged, addressing) if namespace else staged
    events += tx.write(namespace, before, after)
    events += domains.settle(tx, addressing)
    return after.get((resource.key, name)), events


def write(
    tx: Transaction, request: WriteRequest, admit: Admit, addressing: Addressing
) -> tuple[WriteOutcome, Events]:
    """Run one write; the outcome and the watch events (none in a dry run)."""
    resource = request.resource
    now = addressing.now()
    live = None
    if request.name is not None:
        live = tx.get(resource.key, request.namespace, request.name)
    if request.verb in ("update", "patch") and live is None:
        raise not_found(
            resource.resource_name, request.name or "", group=resource.group, plural=resource.plural
        )
    requested, viewed, managed = desired_object(tx, request, live, now)
    kind, namespace, name = _key(resource, requested)
    if request.verb == "create":
        live = tx.get(kind, namespace, name)
        if live is not None:
            raise AlreadyExistsError(f'{resource.resource_name} "{name}" already exists')
    if request.subresource == "status":
        final = _status_write(resource, live, requested)
        warnings: list[str] = []
        before_view: Resource | None = live
    else:
        warnings = check_fields(request, requested)
        final = _admitted(tx, resource, requested, live, admit, addressing)
        before_view = live
    entries = managed
    if entries is None:
        entries = fields.record_update(
            ((live or {}).get("metadata") or {}).get("managedFields") or [],
            before_view,
            viewed,
            manager=request.manager,
            api_version=resource.api_version,
            now=now,
            subresource=request.subresource,
        )
    if entries:
        final["metadata"]["managedFields"] = entries
    else:
        final["metadata"].pop("managedFields", None)
    if request.dry_run:
        if live is None:
            final["metadata"].pop("resourceVersion", None)
        return WriteOutcome(final, live is None, warnings), []
    if final["metadata"].get("deletionTimestamp") and not final["metadata"].get("finalizers"):
        _, events = store(tx, resource, namespace, name, None, addressing)
        return WriteOutcome(final, False, warnings), events
    if live is not None and final == live:
        return WriteOutcome(live, False, warnings), []
    stored, events = store(tx, resource, namespace, name, final, addressing)
    return WriteOutcome(stored or final, live is None, warnings), events


def _status_write(resource: ApiResource, live: Resource | None, requested: Resource) -> Resource:
    if live is None:
        raise not_found(
            resource.resource_name,
            str(requested["metadata"].get("name")),
            group=resource.group,
            plural=resource.plural,
        )
    version = requested["metadata"].get("resourceVersion")
    if version is not None and str(version) != str(live["metadata"].get("resourceVersion")):
        raise _stale(resource, live["metadata"]["name"])
    final = patches.clone(live)
    if "status" in requested:
        final["status"] = patches.clone(requested["status"])
    else:
        final.pop("status", None)
    return final


def _stale(resource: ApiResource, name: str) -> ConflictError:
    return ConflictError(
        f'Operation cannot be fulfilled on {resource.resource_name} "{name}": the object has '
        "been modified; please apply your changes to the latest version and try again"
    )


def _admitted(
    tx: Transaction,
    resource: ApiResource,
    requested: Resource,
    live: Resource | None,
    admit: Admit,
    addressing: Addressing,
) -> Resource:
    """Admission for the main resource; status and server-owned metadata come from storage."""
    if live is not None:
        version = requested["metadata"].get("resourceVersion")
        if version is not None and str(version) != str(live["metadata"].get("resourceVersion")):
            raise _stale(resource, live["metadata"]["name"])
        uid = requested["metadata"].get("uid")
        if uid and uid != live["metadata"].get("uid"):
            raise InvalidResourceError(
                f"metadata.uid: Invalid value: {uid!r}: field is immutable", field="metadata.uid"
            )
        if live["metadata"].get("deletionTimestamp"):
            added = set(requested["metadata"].get("finalizers") or []) - set(
                live["metadata"].get("finalizers") or []
            )
            if added:
                raise InvalidResourceError(
                    "Forbidden: no new finalizers can be added if the object is being deleted",
                    field="metadata.finalizers",
                )
    mode = "create" if live is None else "replace"
    admitted = admit(tx, requested, mode, requested["metadata"].get("namespace") or "")
    final = patches.clone(admitted.resource)
    if live is not None and resource.status_subresource:
        final.pop("status", None)
        if "status" in live:
            final["status"] = patches.clone(live["status"])
    return final


def delete(
    tx: Transaction,
    resource: ApiResource,
    namespace: str,
    name: str,
    *,
    propagation: str,
    dry_run: bool,
    addressing: Addressing,
) -> tuple[Resource, bool, Events]:
    """Delete one object: (its last state, whether it is gone now, events)."""
    live = tx.get(resource.key, namespace, name)
    if live is None:
        raise not_found(resource.resource_name, name, group=resource.group, plural=resource.plural)
    if propagation not in ("", "Background", "Foreground", "Orphan"):
        raise ApiError(
            f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: '
            f'"{propagation}": supported values: "Foreground", "Background", "Orphan"',
            code=422,
        )
    if live["metadata"].get("finalizers"):
        if dry_run or live["metadata"].get("deletionTimestamp"):
            return live, False, []
        marked = patches.clone(live)
        marked["metadata"]["deletionTimestamp"] = addressing.now()
        marked["metadata"]["deletionGracePeriodSeconds"] = 0
        stored, events = store(tx, resource, namespace, name, marked, addressing)
        return stored or marked, False, events
    if dry_run:
        return live, True, []
    if resource.kind == "Namespace":
        emptied = tx.write(name, tx.load_namespace(name), {})
        return (
            live,
            True,
            emptied
            + tx.write(
                "",
                tx.load_namespace(""),
                {k: v for k, v in tx.load_namespace("").items() if k != ("Namespace", name)},
            ),
        )

    before = tx.load_namespace(namespace)
    staged: Objects = {k: v for k, v in before.items() if k != (resource.key, name)}
    uid = live["metadata"].get("uid")
    if propagation == "Orphan":
        for key, obj in list(staged.items()):
            refs = obj["metadata"].get("ownerReferences") or []
            if any(ref.get("uid") == uid for ref in refs):
                orphan = patches.clone(obj)
                kept = [ref for ref in refs if ref.get("uid") != uid]
                if kept:
                    orphan["metadata"]["ownerReferences"] = kept
                else:
                    orphan["metadata"].pop("ownerReferences", None)
                staged[key] = orphan
    after = reconcile_namespace(staged, addressing)
    events = tx.write(namespace, before, after)
    return live, True, events + domains.settle(tx, addressing)


def encode_continue(resource_version: str, last: tuple[str, str]) -> str:
    """An opaque continue token: the list's version and the last key returned."""
    raw = json.dumps({"rv": resource_version, "start": list(last)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(token: str) -> tuple[str, tuple[str, str]]:
    """(resourceVersion, last key) of a continue token; 400 when it is not one of ours."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return str(data["rv"]), (str(data["start"][0]), str(data["start"][1]))
    except (ValueError, KeyError, IndexError, TypeError):
        raise bad_request("continue key is not valid: illegal base64 data") from None


def list_page(
    tx: Transaction,
    resource: ApiResource,
    namespace: str | None,
    *,
    labels: str = "",
    field_text: str = "",
    limit: int = 0,
    continue_token: str = "",
) -> Page:
    """One page of matching objects, with the list's resourceVersion and the next token."""
    label_match = label_selector(labels)
    field_match = field_selector(field_text, namespaced=resource.namespaced)
    version = str(tx.resource_version())
    start: tuple[str, str] | None = None
    if continue_token:
        version, start = decode_continue(continue_token)
    scope = namespace if resource.namespaced else ""
    items = [
        item for item in tx.find(resource.key, scope) if label_match(item) and field_match(item)
    ]
    if start is not None:
        items = [
            i for i in items if (i["metadata"].get("namespace", ""), i["metadata"]["name"]) > start
        ]
    if limit and len(items) > limit:
        last = items[limit - 1]["metadata"]
        token = encode_continue(version, (last.get("namespace", ""), last["name"]))
        return Page(items[:limit], version, token, len(items) - limit)
    return Page(items, version)
