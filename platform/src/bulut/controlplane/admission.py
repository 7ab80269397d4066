"""Admission: what the Knative webhook and the API server do before a write is stored.

``admit`` validates one document, applies defaults, checks update rules against the stored
object (each kind's row in :mod:`bulut.apis.rules`), and returns the object to store with its
generation, uid and timestamps, plus the apply action ("created", "configured" or "unchanged").
Pure apart from the image check, which is a callable passed in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulut.apis.rules import Context, rules_for, with_defaults
from bulut.apis.rules.cluster import CONDITION_TYPE, not_reconciled
from bulut.apis.rules.messaging import ChannelDefaults
from bulut.errors import (
    ConflictError,
    FunctionProjectError,
    InvalidInputError,
    InvalidResourceError,
    ManifestError,
    NotFoundError,
)
from bulut.functions.catalog import resolve as resolve_function
from bulut.manifests.autoscaling import AutoscalerConfig
from bulut.manifests.feed import Resource
from bulut.manifests.knative import ServingConfig

from . import kinds, namespaces
from .addresses import Addressing
from .models import Action, ApplyResult
from .patching import clone

ImageCheck = Callable[[str, Mapping[str, str]], None]

# The user owns every top-level field but these (and, in metadata, _USER_METADATA); the
# platform owns status, uid, generation... Changing a field other than a ConfigMap's data bumps
# the generation (RBAC's rules, roleRef and subjects are top-level fields, like spec).
_PLATFORM_FIELDS = ("apiVersion", "kind", "metadata", "status")
_NO_GENERATION = ("data", "binaryData", "immutable")
_USER_METADATA = ("labels", "annotations", "finalizers", "ownerReferences")


@dataclass(frozen=True)
class Admitted:
    """One document after admission."""

    info: kinds.KindInfo | None  # None: not stored (cluster-only or unknown kind)
    resource: Resource
    action: Action
    note: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """(store key, namespace, name); the namespace is "" for a cluster-scoped kind.

        The store key is the kind's (:attr:`bulut.apis.registry.ApiResource.key`): the bare
        kind, or ``Kind.group`` for a kind whose name a Knative kind already uses.
        """
        meta = self.resource.get("metadata") or {}
        scoped = self.info is None or self.info.namespaced
        namespace = str(meta.get("namespace") or "") if scoped else ""
        kind = self.info.key if self.info is not None else str(self.resource.get("kind"))
        return (kind, namespace, str(meta.get("name")))


def classify(document: Mapping[str, Any], default_namespace: str) -> Admitted | None:
    """An ignored result for kinds Bulut does not store, else None (store it)."""
    if not isinstance(document, Mapping):
        raise ManifestError(f"expected a mapping, got {type(document).__name__}")
    api_version, kind = document.get("apiVersion"), document.get("kind")
    if not isinstance(api_version, str) or not api_version:
        raise InvalidResourceError("missing field(s): apiVersion", field="apiVersion")
    if not isinstance(kind, str) or not kind:
        raise InvalidResourceError("missing field(s): kind", field="kind")
    if kinds.for_document(api_version, kind) is not None:
        return None
    meta = document.get("metadata") or {}
    ref = clone(dict(document))
    ref.setdefault("metadata", {}).setdefault("namespace", meta.get("namespace", default_namespace))
    cluster_only = kind in kinds.CLUSTER_ONLY or api_version in kinds.CLUSTER_ONLY_GROUPS
    note = (
        "ignored (cluster only)" if cluster_only else f"ignored (unknown kind {api_version}/{kind})"
    )
    return Admitted(None, ref, "ignored", note)


#: etcd's default request limit (``--max-request-bytes``), which bounds every Kubernetes
#: object: kube-apiserver refuses a larger one ("etcdserver: request is too large").
MAX_OBJECT_BYTES = 1536 * 1024


class ObjectTooLargeError(InvalidResourceError):
    """An object larger than a cluster would store."""

    http_status = 413
    title = "Object too large"


def check_size(document: Mapping[str, Any]) -> None:
    """Refuse an object whose JSON is larger than :data:`MAX_OBJECT_BYTES` (413)."""
    size = len(json.dumps(document, separators=(",", ":"), default=str))
    if size > MAX_OBJECT_BYTES:
        meta = document.get("metadata")
        name = meta.get("name") if isinstance(meta, Mapping) else None
        raise ObjectTooLargeError(
            f"{document.get('kind')} {name!r:.80} is {size} bytes as JSON, more than a "
            f"cluster stores ({MAX_OBJECT_BYTES} bytes, etcd's request limit): keep large "
            "data out of the object",
        )


def admit(
    document: Mapping[str, Any],
    existing: Resource | None,
    *,
    addressing: Addressing,
    check_image: ImageCheck | None = None,
    default_namespace: str = "default",
    autoscaler: AutoscalerConfig | None = None,
    serving: ServingConfig | None = None,
    channels: ChannelDefaults | None = None,
) -> Admitted:
    """Validate, default and merge one document with what is stored.

    ``autoscaler`` is the stored ``config-autoscaler``: with it, ``max-scale-limit`` and
    ``allow-zero-initial-scale`` are checked as Knative's webhook checks them. ``serving`` is
    the stored ``config-features`` and ``config-defaults`` (Knative's defaults without):
    the pod spec fields their gates allow, and the timeout and concurrency limits.
    ``channels`` is the stored ``default-ch-webhook`` (the channel template Channel,
    Sequence and Parallel get when they name none).
    """
    ignored = classify(document, default_namespace)
    if ignored is not None:
        return ignored
    check_size(document)
    info = kinds.for_document(str(document["apiVersion"]), str(document["kind"]))
    assert info is not None  # classify returned None: the kind is served
    if namespaces.is_namespace(document):
        stored = namespaces.admit_namespace(
            clone(dict(document)), existing, uid=addressing.new_uid(), now=addressing.now()
        )
        if existing is None:
            return Admitted(info, stored, "created")
        return Admitted(info, stored, "unchanged" if stored == existing else "configured")
    incoming = clone(dict(document))
    incoming.setdefault("metadata", {})
    if isinstance(incoming["metadata"], dict):
        if info.namespaced:
            incoming["metadata"].setdefault("namespace", default_namespace)
        else:
            incoming["metadata"].pop("namespace", None)
        incoming["metadata"].pop("managedFields", None)
    rules = rules_for(info.group, info.kind, cluster_only=info.cluster_only)
    context = Context(
        autoscaler, serving or ServingConfig(), info.schema, channels or ChannelDefaults()
    )
    if rules.configured_default is not None and _defaultable(incoming):
        incoming = rules.configured_default(incoming, context)
    rules.validate(incoming, context)
    if check_image is not None:
        _check_images(incoming, check_image)
    desired = with_defaults(incoming)
    if not info.namespaced:
        desired["metadata"].pop("namespace", None)
    if existing is None:
        created = _created(desired, addressing)
        if info.cluster_only:
            _mark_not_reconciled(created, addressing.now())
        return Admitted(info, created, "created")
    _check_resource_version(existing, desired)
    rules.check_update(existing, desired)
    merged = _merged(existing, desired)
    if info.cluster_only:
        _mark_not_reconciled(merged, addressing.now())
    action: Action = "unchanged" if _user_view(merged) == _user_view(existing) else "configured"
    return Admitted(info, merged if action == "configured" else existing, action)


def _mark_not_reconciled(resource: Resource, now: str) -> None:
    """A cluster-only object says it is not reconciled here (kept as it is once there)."""
    status = resource.setdefault("status", {})
    conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
    if not any(c.get("type") == CONDITION_TYPE for c in conditions):
        conditions.append(not_reconciled(str(resource.get("kind")), now))
    status["conditions"] = conditions
    status["observedGeneration"] = resource["metadata"].get("generation", 1)


def _defaultable(resource: Mapping[str, Any]) -> bool:
    """Whether metadata and spec are objects (validation names whichever is not)."""
    return isinstance(resource.get("metadata"), dict) and isinstance(resource.get("spec", {}), dict)


def catalog_check(functions_dir: Path) -> ImageCheck:
    """An image check backed by the function catalog (annotation, else func.yaml name)."""

    def check(image: str, annotations: Mapping[str, str]) -> None:
        resolve_function(image, annotations, functions_dir)

    return check


def _check_images(resource: Mapping[str, Any], check_image: ImageCheck) -> None:
    kind = resource.get("kind")
    if kind in {"Service", "Configuration"}:
        template = resource["spec"]["template"]
        containers, annotations = template["spec"]["containers"], (template.get("metadata") or {})
        path = "spec.template.spec.containers"
    elif kind == "Revision":
        containers, annotations = resource["spec"]["containers"], resource["metadata"]
        path = "spec.containers"
    else:
        return
    try:
        check_image(str(containers[0]["image"]), dict(annotations.get("annotations") or {}))
    except (NotFoundError, FunctionProjectError) as error:
        template = path.rsplit(".spec.containers", 1)[0]
        field = f"{path}[0].image"
        if error.field and error.field.startswith("metadata."):
            field = f"{template}.{error.field}" if template != path else error.field
        raise InvalidResourceError(f"{error}: {field}", field=field) from error


def _created(desired: Resource, addressing: Addressing) -> Resource:
    meta = desired["metadata"]
    for key in ("resourceVersion", "uid", "generation", "creationTimestamp"):
        meta.pop(key, None)
    meta["uid"] = addressing.new_uid()
    meta["generation"] = 1
    meta["creationTimestamp"] = addressing.now()
    desired.pop("status", None)
    return desired


def _check_resource_version(existing: Resource, desired: Resource) -> None:
    version = desired["metadata"].get("resourceVersion")
    if version is not None and str(version) != str(existing["metadata"].get("resourceVersion")):
        raise ConflictError(
            f"the object has been modified (resourceVersion {version} is stale); "
            "get the latest version and try again",
            field="metadata.resourceVersion",
        )


def _merged(existing: Resource, desired: Resource) -> Resource:
    merged = clone(existing)
    meta = merged["metadata"]
    for key in _USER_METADATA:
        if desired["metadata"].get(key):
            meta[key] = clone(desired["metadata"][key])
        else:
            meta.pop(key, None)
    spec_changed = False
    for key in _user_fields(existing, desired):
        if desired.get(key) != existing.get(key):
            spec_changed = spec_changed or key not in _NO_GENERATION
            if key in desired:
                merged[key] = clone(desired[key])
            else:
                merged.pop(key, None)
    if spec_changed:
        meta["generation"] = int(meta.get("generation", 1)) + 1
    return merged


def _user_fields(*resources: Resource) -> list[str]:
    keys = {key for resource in resources for key in resource if key not in _PLATFORM_FIELDS}
    return sorted(keys)


def _user_view(resource: Resource) -> tuple[Any, ...]:
    meta = resource.get("metadata") or {}
    return (
        *(meta.get(key) or None for key in _USER_METADATA),
        *((key, resource[key]) for key in _user_fields(resource)),
    )


def result_of(item: Admitted) -> ApplyResult:
    """The apply result for one admitted document."""
    _, namespace, name = item.key
    kind = str(item.resource.get("kind"))
    api_version = str(item.resource.get("apiVersion", ""))
    return ApplyResult(
        kind=kind,
        namespace=namespace,
        name=name,
        action=item.action,
        note=item.note,
        api_version=api_version,
    )


def in_document(
    error: InvalidInputError, index: int, document: Mapping[str, Any]
) -> InvalidInputError:
    """The same error, naming the document (index, kind, name) it came from."""
    meta = document.get("metadata") if isinstance(document, Mapping) else None
    name = (meta or {}).get("name", "?") if isinstance(meta, Mapping) else "?"
    kind = document.get("kind", "?") if isinstance(document, Mapping) else "?"
    field = f"documents[{index}].{error.field}" if error.field else f"documents[{index}]"
    family = InvalidResourceError if isinstance(error, InvalidResourceError) else InvalidInputError
    named = family(f"document {index + 1} ({kind} {name}): {error.message}", field=field)
    named.http_status = error.http_status  # 413 stays 413
    return named
