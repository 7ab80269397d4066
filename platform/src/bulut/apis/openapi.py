"""OpenAPI v3 documents per group version, from the same CRD schemas (pure).

``GET /openapi/v3`` lists one document per group version with a content hash in its URL;
each document has the paths and operations a CRD gets on a cluster (each PATCH carries the
GVK and a ``fieldValidation`` parameter, so ``kubectl apply`` lets the server validate) and
the schemas under ``components.schemas`` (``dev.knative.serving.v1.Service`` with its
``x-kubernetes-group-version-kind``), so ``kubectl explain ksvc.spec`` prints the CRD's
descriptions.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

import orjson

from .discovery import KUBERNETES_VERSION
from .registry import ApiResource, Registry

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
)
SMP = "application/strategic-merge-patch+json"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _string(description: str, fmt: str = "") -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string", "description": description}
    if fmt:
        node["format"] = fmt
    return node


def _string_map(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "additionalProperties": {"type": "string"},
    }


def meta_schemas() -> dict[str, Any]:
    """ObjectMeta, ListMeta, OwnerReference, ManagedFieldsEntry, Status, DeleteOptions, Patch."""
    owner = {
        "type": "object",
        "description": "OwnerReference contains enough information to let you identify an owning "
        "object. An owning object must be in the same namespace as the dependent, or be "
        "cluster-scoped, so there is no namespace field.",
        "required": ["apiVersion", "kind", "name", "uid"],
        "properties": {
            "apiVersion": _string("API version of the referent."),
            "kind": _string("Kind of the referent."),
            "name": _string("Name of the referent."),
            "uid": _string("UID of the referent."),
            "controller": {
                "type": "boolean",
                "description": "If true, this reference points to the managing controller.",
            },
            "blockOwnerDeletion": {
                "type": "boolean",
                "description": "If true, the owner "
                "cannot be deleted from storage until this reference is "
                "removed (foreground deletion).",
            },
        },
        "x-kubernetes-map-type": "atomic",
    }
    managed = {
        "type": "object",
        "description": "ManagedFieldsEntry is a workflow-id, a FieldSet and the group version "
        "of the resource that the fieldset applies to.",
        "properties": {
            "manager": _string("Manager is an identifier of the workflow managing these fields."),
            "operation": _string(
                "The type of operation which lead to this entry: Apply or Update."
            ),
            "apiVersion": _string("The version of this resource that this field set applies to."),
            "time": _string("Timestamp of when the entry was last changed.", "date-time"),
            "fieldsType": _string("The format of the fields: FieldsV1."),
            "fieldsV1": {"type": "object", "description": "The field set, in FieldsV1 format."},
            "subresource": _string("The subresource used to update that object, if any."),
        },
    }
    object_meta = {
        "type": "object",
        "description": "ObjectMeta is metadata that all persisted resources must have, which "
        "includes all objects users must create.",
        "properties": {
            "name": _string("Name must be unique within a namespace. Cannot be updated."),
            "generateName": _string(
                "An optional prefix used by the server to generate a unique "
                "name only if the Name field has not been provided."
            ),
            "namespace": _string(
                "Namespace defines the space within which each name must be "
                "unique. Cannot be updated."
            ),
            "uid": _string(
                "UID is the unique in time and space value for this object. "
                "Populated by the system. Read-only."
            ),
            "resourceVersion": _string(
                "An opaque value that represents the internal version of "
                "this object, used for optimistic concurrency and "
                "watches. Populated by the system. Read-only."
            ),
            "generation": {
                "type": "integer",
                "format": "int64",
                "description": "A sequence "
                "number representing a specific generation of the desired state. "
                "Populated by the system. Read-only.",
            },
            "creationTimestamp": _string(
                "The time this object was created. Read-only.", "date-time"
            ),
            "deletionTimestamp": _string(
                "The time at which this resource will be deleted, set "
                "when deletion is requested and finalizers remain.",
                "date-time",
            ),
            "deletionGracePeriodSeconds": {
                "type": "integer",
                "format": "int64",
                "description": "Seconds allowed for graceful termination. Read-only.",
            },
            "labels": _string_map(
                "Map of string keys and values that can be used to organize "
                "and categorize (scope and select) objects."
            ),
            "annotations": _string_map(
                "An unstructured key value map stored with a resource "
                "that may be set by external tools."
            ),
            "finalizers": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Must be empty before the object is deleted from the registry.",
                "x-kubernetes-list-type": "set",
            },
            "ownerReferences": {
                "type": "array",
                "items": _ref(f"{META}.OwnerReference"),
                "description": "List of objects depended by this object. If "
                "ALL objects in the list have been deleted, this object will "
                "be garbage collected.",
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["uid"],
            },
            "managedFields": {
                "type": "array",
                "items": _ref(f"{META}.ManagedFieldsEntry"),
                "description": "Maps workflow-id and version to the set of "
                "fields that are managed by that workflow.",
            },
        },
    }
    list_meta = {
        "type": "object",
        "description": "ListMeta describes metadata that synthetic resources must have.",
        "properties": {
            "resourceVersion": _string("The version of the list, for watches."),
            "continue": _string("Set when more results are available: pass it as ?continue."),
            "remainingItemCount": {"type": "integer", "format": "int64"},
        },
    }
    status = {
        "type": "object",
        "description": "Status is a return value for calls that don't return other objects.",
        "properties": {
            "apiVersion": _string("APIVersion of this representation."),
            "kind": _string("Kind of this representation."),
            "code": {"type": "integer", "format": "int32"},
            "message": _string("A human-readable description of the status of this operation."),
            "reason": _string("A machine-readable description of why this operation failed."),
            "status": _string("Status of the operation: Success or Failure."),
            "details": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "metadata": _ref(f"{META}.ListMeta"),
        },
    }
    delete_options = {
        "type": "object",
        "description": "DeleteOptions may be provided when deleting an API object.",
        "properties": {
            "dryRun": {"type": "array", "items": {"type": "string"}},
            "propagationPolicy": _string("Orphan, Background or Foreground."),
            "gracePeriodSeconds": {"type": "integer", "format": "int64"},
            "preconditions": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    return {
        f"{META}.ObjectMeta": object_meta,
        f"{META}.ListMeta": list_meta,
        f"{META}.OwnerReference": owner,
        f"{META}.ManagedFieldsEntry": managed,
        f"{META}.Status": status,
        f"{META}.DeleteOptions": delete_options,
        f"{META}.Patch": {
            "type": "object",
            "description": "Patch is provided to give a "
            "concrete name and type to the Kubernetes PATCH request body.",
        },
    }


def schema_name(resource: ApiResource) -> str:
    """``dev.knative.serving.v1.Service`` (reversed group), ``io.k8s.api.core.v1.Namespace``."""
    if not resource.group:
        return f"io.k8s.api.core.{resource.version}.{resource.kind}"
    if resource.builtin:
        return f"io.k8s.api.{resource.group.split('.')[0]}.{resource.version}.{resource.kind}"
    reversed_group = ".".join(reversed(resource.group.split(".")))
    return f"{reversed_group}.{resource.version}.{resource.kind}"


def _gvk(resource: ApiResource, kind: str | None = None) -> dict[str, str]:
    return {"group": resource.group, "version": resource.version, "kind": kind or resource.kind}


def kind_schema(resource: ApiResource) -> dict[str, Any]:
    """The CRD schema with apiVersion, kind and metadata injected, as apiextensions does."""
    schema = dict(resource.schema)
    properties = dict(schema.get("properties") or {})
    properties["apiVersion"] = _string(
        "APIVersion defines the versioned schema of this representation of an object."
    )
    properties["kind"] = _string(
        "Kind is a string value representing the REST resource this object represents."
    )
    properties["metadata"] = {
        "description": "Standard object's metadata.",
        "allOf": [_ref(f"{META}.ObjectMeta")],
    }
    schema["properties"] = properties
    schema["type"] = "object"
    schema["x-kubernetes-group-version-kind"] = [_gvk(resource)]
    return schema


def list_schema(resource: ApiResource) -> dict[str, Any]:
    """``<Kind>List``."""
    return {
        "type": "object",
        "description": f"{resource.kind}List is a list of {resource.kind}",
        "required": ["items"],
        "properties": {
            "apiVersion": _string("APIVersion of this list."),
            "kind": _string("Kind of this list."),
            "items": {"type": "array", "items": _ref(schema_name(resource))},
            "metadata": {"allOf": [_ref(f"{META}.ListMeta")]},
        },
        "x-kubernetes-group-version-kind": [_gvk(resource, resource.list_kind)],
    }


def _query(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": {"type": kind}}


_WRITE_PARAMS = [
    _query("dryRun", "When present, modifications are not persisted (All)."),
    _query("fieldManager", "A name associated with the actor making these changes."),
    _query(
        "fieldValidation",
        "Ignore, Warn (the default) or Strict: what to do with unknown or duplicate fields.",
    ),
]
_LIST_PARAMS = [
    _query("labelSelector", "A selector to restrict the list of returned objects by labels."),
    _query("fieldSelector", "A selector on metadata.name and metadata.namespace."),
    _query("limit", "The maximum number of items to return.", "integer"),
    _query("continue", "The token of the next page, from a previous list."),
    _query("resourceVersion", "List or watch from this resource version."),
    _query("timeoutSeconds", "Timeout for the list/watch call.", "integer"),
    _query("watch", "Watch for changes and stream them.", "boolean"),
    _query("allowWatchBookmarks", "Allow BOOKMARK events in a watch.", "boolean"),
]


def _operation(
    resource: ApiResource,
    action: str,
    summary: str,
    *,
    body: dict[str, Any] | None = None,
    answer: str | None = None,
    params: list[dict[str, Any]] | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "description": summary,
        "operationId": f"{action}{resource.kind}",
        "tags": [resource.group or "core"],
        "parameters": params or [],
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": _ref(answer or schema_name(resource))}},
            }
        },
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": _gvk(resource, kind),
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


def _json_body(name: str) -> dict[str, Any]:
    return {
        "content": {
            "application/json": {"schema": _ref(name)},
            "application/yaml": {"schema": _ref(name)},
        },
        "required": True,
    }


def _patch_body(resource: ApiResource) -> dict[str, Any]:
    types = [*PATCH_TYPES, SMP] if resource.builtin else list(PATCH_TYPES)
    return {"content": {t: {"schema": _ref(f"{META}.Patch")} for t in types}, "required": True}


def _path_params(resource: ApiResource, *, item: bool) -> list[dict[str, Any]]:
    params = []
    if resource.namespaced:
        params.append(
            {
                "name": "namespace",
                "in": "path",
                "required": True,
                "description": "object name and auth scope",
                "schema": {"type": "string"},
            }
        )
    if item:
        params.append(
            {
                "name": "name",
                "in": "path",
                "required": True,
                "description": f"name of the {resource.kind}",
                "schema": {"type": "string"},
            }
        )
    return params


def paths_of(resource: ApiResource) -> dict[str, Any]:
    """Collection, item and status paths of one kind."""
    prefix = resource.root + ("/namespaces/{namespace}" if resource.namespaced else "")
    collection = f"{prefix}/{resource.plural}"
    name = schema_name(resource)
    list_name = f"{name}List"
    patch_params = [
        *_WRITE_PARAMS,
        _query("force", "Force the apply (take conflicting fields).", "boolean"),
    ]
    paths: dict[str, Any] = {
        collection: {
            "get": _operation(
                resource,
                "list",
                f"list objects of kind {resource.kind}",
                answer=list_name,
                params=_LIST_PARAMS,
                kind=resource.list_kind,
            ),
            "post": _operation(
                resource,
                "post",
                f"create a {resource.kind}",
                body=_json_body(name),
                params=_WRITE_PARAMS,
            ),
            "delete": _operation(
                resource,
                "deletecollection",
                f"delete collection of {resource.kind}",
                answer=f"{META}.Status",
                params=_LIST_PARAMS,
            ),
            "parameters": _path_params(resource, item=False),
        },
        f"{collection}/{{name}}": {
            "get": _operation(resource, "get", f"read the specified {resource.kind}"),
            "put": _operation(
                resource,
                "put",
                f"replace the specified {resource.kind}",
                body=_json_body(name),
                params=_WRITE_PARAMS,
            ),
            "patch": _operation(
                resource,
                "patch",
                f"partially update the specified {resource.kind}",
                body=_patch_body(resource),
                params=patch_params,
            ),
            "delete": _operation(
                resource,
                "delete",
                f"delete a {resource.kind}",
                answer=f"{META}.Status",
                body=_json_body(f"{META}.DeleteOptions"),
                params=[
                    _query("dryRun", "All: delete nothing."),
                    _query("propagationPolicy", "Orphan, Background or Foreground."),
                ],
            ),
            "parameters": _path_params(resource, item=True),
        },
    }
    if resource.kind == "Namespace":
        del paths[collection]["delete"]
    if resource.status_subresource:
        paths[f"{collection}/{{name}}/status"] = {
            "get": _operation(resource, "get", f"read status of the specified {resource.kind}"),
            "put": _operation(
                resource,
                "put",
                f"replace status of the specified {resource.kind}",
                body=_json_body(name),
                params=_WRITE_PARAMS,
            ),
            "patch": _operation(
                resource,
                "patch",
                f"partially update status of the specified {resource.kind}",
                body=_patch_body(resource),
                params=patch_params,
            ),
            "parameters": _path_params(resource, item=True),
        }
    if resource.namespaced:
        paths[f"{resource.root}/{resource.plural}"] = {
            "get": _operation(
                resource,
                "list",
                f"list objects of kind {resource.kind} in all namespaces",
                answer=list_name,
                params=_LIST_PARAMS,
                kind=resource.list_kind,
            ),
        }
    return paths


def document(registry: Registry, group: str, version: str) -> dict[str, Any]:
    """The OpenAPI v3 document of one group version."""
    paths: dict[str, Any] = {}
    schemas = meta_schemas()
    for resource in registry.in_group(group, version):
        paths.update(paths_of(resource))
        schemas[schema_name(resource)] = kind_schema(resource)
        schemas[f"{schema_name(resource)}List"] = list_schema(resource)
    return {
        "openapi": "3.0.0",
        "info": {"title": "Bulut (Kubernetes API)", "version": KUBERNETES_VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def gv_path(group: str, version: str) -> str:
    """``apis/<g>/<v>``, or ``api/v1`` for the core group."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


@cache
def rendered(registry: Registry) -> dict[str, tuple[bytes, str]]:
    """Each group version's document as JSON bytes, with its uppercase SHA-512 hash."""
    answer = {}
    for group, version in registry.groups():
        body = orjson.dumps(document(registry, group, version))
        answer[gv_path(group, version)] = (body, hashlib.sha512(body).hexdigest().upper())
    return answer


def index(registry: Registry) -> dict[str, Any]:
    """``GET /openapi/v3``: where each group version's document is."""
    return {
        "paths": {
            path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
            for path, (_body, digest) in sorted(rendered(registry).items())
        }
    }
