"""EventType auto-creation: the event catalogue from what brokers and channels receive.

With ``eventtype-auto-create: enabled`` in ``knative-eventing/config-features`` (default
``disabled``, an Alpha feature of Knative), every event a Broker's ingress accepts, and
every event arriving at an InMemoryChannel that no Broker owns, creates an EventType
(``eventing.knative.dev/v1beta3``) as knative/eventing's ``pkg/eventtype`` does
(reference knative-kinds §9.2): named ``et-<ref>-<md5(type + source + namespace + ref)>``,
owned (not controlled) by the Broker or channel it references, with the attributes
``type``, ``source``, ``schemadata`` and ``specversion`` set from the event and ``id``
without a value, all ``required``. It is best effort: a name already seen is skipped,
an existing object is left alone, a failure is logged and never touches the answer
to the sender.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bulut.errors import BulutError

log = logging.getLogger(__name__)

FEATURES = ("knative-eventing", "config-features")
AUTO_CREATE = "eventtype-auto-create"
API_VERSION = "eventing.knative.dev/v1beta3"
DESCRIPTION = "Event Type auto-created by controller"
MAX_NAME = 253
MAX_REMEMBERED = 10_000
_NOT_NAME = re.compile(r"[^-.a-z0-9]")

Create = Callable[[dict[str, Any]], Awaitable[Any]]
"""Stores one new object (the control plane's create; a conflict means it exists)."""
Reference = dict[str, str]
"""apiVersion, kind, name, namespace and uid of the object an EventType references."""


def eventtype_name(ref_name: str, event_type: str, source: str, namespace: str) -> str:
    """``et-<ref>-<md5 hex>``, lower-cased, only ``[-.a-z0-9]``, trimmed, at most 253."""
    digest = hashlib.md5(
        (event_type + source + namespace + ref_name).encode(), usedforsecurity=False
    ).hexdigest()
    name = _NOT_NAME.sub("", f"et-{ref_name}-{digest}".lower())
    return name[:MAX_NAME].strip("-.")


def auto_created(reference: Reference, attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The EventType for an event with these attributes received by ``reference``."""
    event_type = str(attributes.get("type") or "")
    source = str(attributes.get("source") or "")
    namespace, ref_name = reference["namespace"], reference["name"]
    values = {
        "type": event_type,
        "source": source,
        "schemadata": str(attributes.get("dataschema") or ""),
        "specversion": str(attributes.get("specversion") or "1.0"),
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "EventType",
        "metadata": {
            "name": eventtype_name(ref_name, event_type, source, namespace),
            "namespace": namespace,
            "ownerReferences": [{k: reference[k] for k in ("apiVersion", "kind", "name", "uid")}],
        },
        "spec": {
            "reference": {k: reference[k] for k in ("apiVersion", "kind", "name", "namespace")},
            "description": DESCRIPTION,
            "attributes": [
                *({"name": n, "value": v, "required": True} for n, v in values.items()),
                {"name": "id", "required": True},
            ],
        },
    }


def feature_enabled(configmap: Mapping[str, Any]) -> bool:
    """Whether ``config-features`` turns ``eventtype-auto-create`` on."""
    value = str((configmap.get("data") or {}).get(AUTO_CREATE) or "disabled")
    return value.strip().lower() == "enabled"


def reference_of(obj: Mapping[str, Any]) -> Reference:
    """The reference (with uid) to a Broker, channel, Trigger or Subscription object."""
    meta = obj.get("metadata") or {}
    return {
        "apiVersion": str(obj.get("apiVersion") or ""),
        "kind": str(obj.get("kind") or ""),
        "name": str(meta.get("name") or ""),
        "namespace": str(meta.get("namespace") or "default"),
        "uid": str(meta.get("uid") or ""),
    }


class EventTypeCatalog:
    """Creates EventTypes for the events brokers and channels receive, when enabled."""

    def __init__(self, create: Create | None) -> None:
        self.create = create
        self.enabled = False
        self.references: dict[tuple[str, str, str], Reference] = {}
        self._seen: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def apply_features(self, configmap: Mapping[str, Any], deleted: bool = False) -> None:
        """Follow ``knative-eventing/config-features``."""
        self.enabled = not deleted and feature_enabled(configmap)

    def remember(self, obj: Mapping[str, Any], deleted: bool = False) -> None:
        """Know (or forget) an object events can be received by."""
        reference = reference_of(obj)
        key = (reference["kind"], reference["namespace"], reference["name"])
        if deleted:
            self.references.pop(key, None)
        else:
            self.references[key] = reference

    def received(self, kind: str, namespace: str, name: str, attributes: Mapping[str, Any]) -> None:
        """An event was received by ``kind`` ``namespace/name``: catalogue its type."""
        if not self.enabled or self.create is None:
            return
        reference = self.references.get((kind, namespace, name))
        if reference is None or not reference["uid"]:
            return
        document = auto_created(reference, attributes)
        name = document["metadata"]["name"]
        if name in self._seen:
            return
        if len(self._seen) >= MAX_REMEMBERED:
            self._seen.clear()
        self._seen.add(name)
        task = asyncio.get_running_loop().create_task(self._create(document))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _create(self, document: dict[str, Any]) -> None:
        assert self.create is not None
        try:
            await self.create(document)
        except BulutError as error:
            if getattr(error, "http_status", 0) != 409:  # it exists: nothing to do
                self._seen.discard(document["metadata"]["name"])
                log.warning("eventtype %s: %s", document["metadata"]["name"], error)

    async def aclose(self) -> None:
        """Wait for the creations in flight."""
        await asyncio.gather(*self._tasks, return_exceptions=True)
