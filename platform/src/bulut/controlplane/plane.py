"""The control plane object: store + admission + reconcilers + watch, behind one lock.

Writes are serialised (one asyncio lock); each runs in a worker thread as one database
transaction: admit every document first (so a bad one changes nothing), then reconcile
each touched namespace and store only what changed, then publish the watch events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from bulut.apis.registry import ApiResource, registry as served_kinds
from bulut.apis.rules.messaging import DEFAULT_CH_CONFIGMAP, DEFAULT_CH_KEY, ChannelDefaults
from bulut.apis.rules.serving import serving_config as serving_config_from
from bulut.apis.status import ApiError
from bulut.errors import ConfigError, ConflictError, InvalidInputError, NotFoundError
from bulut.manifests.autoscaling import AutoscalerConfig
from bulut.manifests.feed import Resource, ResourceEvent, initial_order, key_of as _key_of
from bulut.settings import Settings

from . import access, domains, kinds as registry, namespaces, operations
from .addresses import Addressing
from .admission import Admitted, admit, catalog_check, classify, in_document, result_of
from .app import create_app
from .db import create_db_engine, create_schema
from .models import ApplyResult
from .patching import merge_patch
from .reconcilers import reconcile_namespace
from .reconcilers.reports import apply_runtime_report, reconciles, runtime_children
from .reconcilers.revision import check_report
from .store import Store, Transaction
from .watch import Subscription, WatchHub

T = TypeVar("T")
logger = logging.getLogger(__name__)
Resources = list[dict[str, Any]]
Results = list[ApplyResult]
Events = list[ResourceEvent]
AdmittedList = list[Admitted]
Mode = Literal["apply", "create", "replace"]
_AUTOSCALER = ("ConfigMap", "knative-serving", "config-autoscaler")
_FEATURES = ("ConfigMap", "knative-serving", "config-features")
_DEFAULTS = ("ConfigMap", "knative-serving", "config-defaults")
_DEFAULT_CH = ("ConfigMap", *DEFAULT_CH_CONFIGMAP)


def _channel_defaults(configmap: Resource | None) -> ChannelDefaults:
    """The stored ``default-ch-webhook`` (InMemoryChannel when absent or unreadable)."""
    text = ((configmap or {}).get("data") or {}).get(DEFAULT_CH_KEY)
    try:
        return ChannelDefaults.from_config(yaml.safe_load(str(text)) if text else None)
    except yaml.YAMLError:
        return ChannelDefaults()


def _autoscaler_config(configmap: Resource | None) -> AutoscalerConfig:
    """The stored ``config-autoscaler``, or Knative's defaults when there is none."""
    data = (configmap or {}).get("data") or {}
    try:
        return AutoscalerConfig.from_configmap({str(k): str(v) for k, v in data.items()})
    except InvalidInputError:  # stored before admission checked it: the defaults apply
        return AutoscalerConfig.from_configmap({})


class ControlPlane:
    """Knative resources for one machine; satisfies :class:`bulut.manifests.feed.ResourceFeed`."""

    def __init__(self, settings: Settings, *, check_images: bool = True) -> None:
        self.settings = settings
        self.addressing = Addressing.from_settings(settings)
        self._image_check = catalog_check(Path(settings.functions_dir)) if check_images else None
        self._engine: Engine | None = None
        self._store: Store | None = None
        self._lock = asyncio.Lock()
        self._hub = WatchHub()
        self.access = access.prepare(settings)
        self._app: FastAPI | None = None

    @property
    def app(self) -> FastAPI:
        """The REST API (+ /openapi.json, /healthz, /readyz), built on first use.

        A composition root that serves more beside it builds its own with
        :func:`~bulut.controlplane.app.create_app` (``routes`` and ``mounts``).
        """
        if self._app is None:
            self._app = create_app(self)
        return self._app

    @property
    def started(self) -> bool:
        """True between start() and aclose()."""
        return self._store is not None

    async def start(self) -> None:
        """Open (and create) the database, then reconcile everything once."""
        if self._store is not None:
            return
        engine = create_db_engine(self.settings.resolved_database_url)
        try:
            await asyncio.to_thread(create_schema, engine)
        except BaseException:
            engine.dispose()
            raise
        self._engine, self._store = engine, Store(engine)
        if self.access is not None:
            logger.warning(self.access.announce(self.settings.control_url))
        async with self._lock:
            await asyncio.to_thread(self._reconcile_all)
            version = await asyncio.to_thread(self._read, lambda tx: tx.resource_version())
        self._hub = WatchHub(version)

    async def aclose(self) -> None:
        """End watches and release the database."""
        self._hub.close()
        if self._engine is not None:
            self._engine.dispose()
        self._engine, self._store = None, None

    # -- reads -------------------------------------------------------------
    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        """One resource; NotFoundError when absent."""
        info = registry.lookup(kind)
        found: Resource | None = await asyncio.to_thread(
            self._read, lambda tx: tx.get(info.key, namespace, name)
        )
        if found is None:
            raise NotFoundError(f'{info.qualified} "{name}" not found in namespace {namespace!r}')
        return found

    async def list(self, kind: str, namespace: str | None = None) -> Resources:
        """Resources of one kind, in one namespace or (None) all of them."""
        info = registry.lookup(kind)
        return await asyncio.to_thread(self._read, lambda tx: tx.find(info.key, namespace))

    def _read(self, query: Callable[[Transaction], T]) -> T:
        with self._require_store().transaction() as tx:
            return query(tx)

    def _require_store(self) -> Store:
        if self._store is None:
            raise ConfigError("the control plane is not started (call start() first)")
        return self._store

    async def ready(self) -> bool:
        """True when the database answers."""
        if self._store is None:
            return False
        await asyncio.to_thread(self._read, lambda tx: tx.namespaces())
        return True

    # -- writes ------------------------------------------------------------
    async def apply(
        self,
        documents: Sequence[Mapping[str, Any]],
        *,
        namespace: str | None = None,
        dry_run: bool = False,
    ) -> Results:
        """Create or update every document atomically (all are validated first)."""
        results, _ = await self._write(documents, "apply", namespace, dry_run)
        return results

    async def create(self, document: Mapping[str, Any], namespace: str | None = None) -> Resource:
        """Create one resource; ConflictError when it exists."""
        _, stored = await self._write([document], "create", namespace, False)
        return stored[0]

    async def replace(self, document: Mapping[str, Any], namespace: str | None = None) -> Resource:
        """Replace one existing resource's spec, labels and annotations."""
        _, stored = await self._write([document], "replace", namespace, False)
        return stored[0]

    async def patch(
        self, kind: str, namespace: str, name: str, patch: Mapping[str, Any]
    ) -> Resource:
        """Apply a JSON merge patch to one resource."""
        current = await self.get(kind, namespace, name)
        merged = merge_patch(current, dict(patch))
        merged.get("metadata", {}).pop("resourceVersion", None)
        if (patch.get("metadata") or {}).get("resourceVersion") is not None:
            merged["metadata"]["resourceVersion"] = patch["metadata"]["resourceVersion"]
        return await self.replace(merged, namespace)

    async def delete(self, kind: str, namespace: str, name: str) -> None:
        """Delete one resource and what it owns (Knative's ownerReferences cascade)."""
        info = registry.lookup(kind)
        async with self._lock:
            events = await asyncio.to_thread(self._delete_sync, info.key, namespace, name)
        self._hub.publish(events)

    async def report(
        self, kind: str, namespace: str, name: str, runtime: Mapping[str, Any]
    ) -> None:
        """Merge runtime facts into a resource's status and re-reconcile its namespace."""
        info = registry.lookup(kind)
        check_report(runtime)  # 400 naming the field, before taking the lock
        async with self._lock:
            events = await asyncio.to_thread(
                self._report_sync, info.key, namespace, name, dict(runtime)
            )
        self._hub.publish(events)

    # -- watch -------------------------------------------------------------
    async def watch(
        self, kinds: frozenset[str], *, existing: bool = True
    ) -> AsyncIterator[ResourceEvent]:
        """ADDED for every existing resource of these kinds (unless ``existing`` is False),
        then every change. A kind is any name :func:`~bulut.controlplane.kinds.lookup`
        resolves (``Service`` is Knative's; ``Service.core`` or ``svc`` the core v1 one)."""
        wanted = frozenset(registry.lookup(k).key for k in kinds)
        key_of = served_kinds().key_of
        current: Resources = []
        async with self._lock:
            subscription = self._hub.subscribe(wanted)
            if existing:
                current = await asyncio.to_thread(
                    self._read, lambda tx: [r for r in tx.find() if key_of(r) in wanted]
                )
        order = [info.key for info in registry.KINDS]
        current.sort(key=lambda r: (order.index(key_of(r)), *_key_of(r)[1:]))
        try:
            for resource in initial_order(current):
                yield {"type": "ADDED", "object": resource}
            while (event := await subscription.next()) is not None:
                yield event
        finally:
            self._hub.unsubscribe(subscription)

    # -- the synchronous core (runs in a worker thread) ---------------------
    async def _write(
        self, documents: Sequence[Mapping[str, Any]], mode: Mode, namespace: str | None, dry: bool
    ) -> tuple[Results, Resources]:
        async with self._lock:
            results, stored, events = await asyncio.to_thread(
                self._write_sync, documents, mode, namespace or self.settings.namespace, dry
            )
        self._hub.publish(events)
        return results, stored

    def _write_sync(
        self, documents: Sequence[Mapping[str, Any]], mode: Mode, namespace: str, dry: bool
    ) -> tuple[Results, Resources, Events]:
        with self._require_store().transaction() as tx:
            admitted = self._admit_all(tx, documents, mode, namespace)
            results = [result_of(a) for a in admitted]
            if dry:
                return results, [a.resource for a in admitted], []
            events: Events = []
            stored: dict[tuple[str, str, str], Resource] = {}
            for ns in sorted({a.key[1] for a in admitted if a.info is not None}):
                before = tx.load_namespace(ns)
                staged = dict(before)
                for item in admitted:
                    if item.info is not None and item.key[1] == ns:
                        staged[(item.key[0], item.key[2])] = item.resource
                after = reconcile_namespace(staged, self.addressing) if ns else staged
                events += tx.write(ns, before, after)
                stored.update({(k[0], ns, k[1]): v for k, v in after.items()})
            for ns in sorted({a.key[1] for a in admitted if a.info is not None}):
                events += operations.ensure_namespace(tx, ns, self.addressing)
            events += domains.settle(tx, self.addressing)
            return results, [stored.get(a.key, a.resource) for a in admitted], events

    def _admit_all(
        self, tx: Transaction, documents: Sequence[Mapping[str, Any]], mode: Mode, namespace: str
    ) -> AdmittedList:
        admitted: AdmittedList = []
        staged: dict[tuple[str, str, str], Resource] = {}
        for index, document in enumerate(documents):
            try:
                item = self._admit_one(tx, document, mode, namespace, staged)
            except InvalidInputError as error:
                if mode != "apply":
                    raise
                raise in_document(error, index, document) from error
            if item.info is not None:
                staged[item.key] = item.resource
            admitted.append(item)
        return admitted

    def _admit_one(
        self,
        tx: Transaction,
        document: Mapping[str, Any],
        mode: Mode,
        namespace: str,
        staged: dict[tuple[str, str, str], Resource],
    ) -> Admitted:
        if classify(document, namespace) is not None and mode != "apply":
            raise InvalidInputError(
                f"kind {document.get('kind')!r} is not served here", field="kind"
            )
        meta = document.get("metadata") or {}
        kind = str(document.get("kind"))
        served = registry.for_document(str(document.get("apiVersion")), kind)
        key = (
            served.key if served is not None else kind,
            str(meta.get("namespace") or namespace),
            str(meta.get("name")),
        )
        if namespaces.is_namespace(document) or (served is not None and not served.namespaced):
            key = (key[0], "", key[2])
        existing = staged.get(key) or tx.get(*key)
        if mode == "create" and existing is not None:
            raise ConflictError(f'{kind} "{key[2]}" already exists in namespace {key[1]!r}')
        if mode == "replace" and existing is None:
            raise NotFoundError(f'{kind} "{key[2]}" not found in namespace {key[1]!r}')
        return admit(
            document,
            existing,
            addressing=self.addressing,
            check_image=self._image_check,
            default_namespace=namespace,
            autoscaler=replace(
                _autoscaler_config(staged.get(_AUTOSCALER) or tx.get(*_AUTOSCALER)),
                scale_ceiling=self.settings.max_scale,
            ),
            serving=serving_config_from(
                staged.get(_FEATURES) or tx.get(*_FEATURES),
                staged.get(_DEFAULTS) or tx.get(*_DEFAULTS),
            ),
            channels=_channel_defaults(staged.get(_DEFAULT_CH) or tx.get(*_DEFAULT_CH)),
        )

    def _delete_sync(self, kind: str, namespace: str, name: str) -> Events:
        with self._require_store().transaction() as tx:
            before = tx.load_namespace(namespace)
            if (kind, name) not in before:
                raise NotFoundError(f'{kind} "{name}" not found in namespace {namespace!r}')
            staged = {k: v for k, v in before.items() if k != (kind, name)}
            events = tx.write(namespace, before, reconcile_namespace(staged, self.addressing))
            return events + domains.settle(tx, self.addressing)

    def _report_sync(self, kind: str, namespace: str, name: str, runtime: dict[str, Any]) -> Events:
        now = self.addressing.now()
        with self._require_store().transaction() as tx:
            stored = tx.get(kind, namespace, name)  # None: not found, or filed under an old key
            if stored is not None:
                reported = apply_runtime_report(kind, stored, runtime, now=now)
                if not reconciles(kind, stored, reported):  # only the runtime's picture moved
                    return tx.write(namespace, {(kind, name): stored}, {(kind, name): reported})
            before = tx.load_namespace(namespace)
            current = before.get((kind, name))
            if current is None:
                raise NotFoundError(f'{kind} "{name}" not found in namespace {namespace!r}')
            if stored is None:
                reported = apply_runtime_report(kind, current, runtime, now=now)
            staged = dict(before)
            staged[(kind, name)] = reported
            staged.update(runtime_children(kind, reported, runtime, staged, self.addressing))
            return tx.write(namespace, before, reconcile_namespace(staged, self.addressing))

    def _reconcile_all(self) -> None:
        with self._require_store().transaction() as tx:
            for ns in tx.namespaces():
                before = tx.load_namespace(ns)
                if ns:
                    tx.write(ns, before, reconcile_namespace(before, self.addressing))
            for ns in {"default", *tx.namespaces()}:
                operations.ensure_namespace(tx, ns, self.addressing)
            domains.settle(tx, self.addressing)

    # -- the Kubernetes API's verbs ----------------------------------------
    async def kube_write(self, request: operations.WriteRequest) -> operations.WriteOutcome:
        """One create, update, patch or apply, with kube-apiserver's semantics."""

        def run(tx: Transaction) -> tuple[operations.WriteOutcome, Events]:
            return operations.write(tx, request, self._admit_for_api, self.addressing)

        async with self._lock:
            outcome, events = await asyncio.to_thread(self._in_transaction, run)
        self._hub.publish(events)
        return outcome

    def _admit_for_api(
        self, tx: Transaction, document: Resource, mode: str, namespace: str
    ) -> Admitted:
        chosen: Mode = "create" if mode == "create" else "replace"
        return self._admit_one(tx, document, chosen, namespace or self.settings.namespace, {})

    async def kube_delete(
        self, resource: ApiResource, namespace: str, name: str, *, propagation: str, dry_run: bool
    ) -> tuple[Resource, bool]:
        """Delete one object: (its last state, whether it is gone now)."""

        def run(tx: Transaction) -> tuple[tuple[Resource, bool], Events]:
            last, gone, events = operations.delete(
                tx,
                resource,
                namespace,
                name,
                propagation=propagation,
                dry_run=dry_run,
                addressing=self.addressing,
            )
            return (last, gone), events

        async with self._lock:
            answer, events = await asyncio.to_thread(self._in_transaction, run)
        self._hub.publish(events)
        return answer

    async def kube_delete_collection(
        self,
        resource: ApiResource,
        namespace: str | None,
        *,
        labels: str,
        field_text: str,
        dry_run: bool,
    ) -> Resources:
        """Delete every matching object at once; the deleted objects."""

        def run(tx: Transaction) -> tuple[Resources, Events]:
            page = operations.list_page(
                tx, resource, namespace, labels=labels, field_text=field_text
            )
            gone: Resources = []
            events: Events = []
            for item in page.items:
                meta = item["metadata"]
                if tx.get(resource.key, meta.get("namespace", ""), meta["name"]) is None:
                    continue  # already collected with its owner
                last, _, more = operations.delete(
                    tx,
                    resource,
                    meta.get("namespace", ""),
                    meta["name"],
                    propagation="",
                    dry_run=dry_run,
                    addressing=self.addressing,
                )
                gone.append(last)
                events += more
            return gone, events

        async with self._lock:
            deleted, events = await asyncio.to_thread(self._in_transaction, run)
        self._hub.publish(events)
        return deleted

    async def kube_get(self, resource: ApiResource, namespace: str, name: str) -> Resource:
        """One object; 404 Status when absent."""
        scope = namespace if resource.namespaced else ""
        found: Resource | None = await asyncio.to_thread(
            self._read, lambda tx: tx.get(resource.key, scope, name)
        )
        if found is None:
            raise ApiError(
                f'{resource.resource_name} "{name}" not found',
                code=404,
                details={"name": name, "group": resource.group, "kind": resource.plural},
            )
        return found

    async def kube_list(
        self, resource: ApiResource, namespace: str | None, **options: Any
    ) -> operations.Page:
        """One page of a list (label/field selectors, limit, continue)."""
        return await asyncio.to_thread(
            self._read, lambda tx: operations.list_page(tx, resource, namespace, **options)
        )

    async def kube_watch(
        self, resource: ApiResource, since: int | None
    ) -> tuple[Events, Subscription, int]:
        """(events to send first, the live subscription, the current version).

        ``since`` None: ADDED for every current object. Else the events after that version;
        410 Expired when it is older than the hub's window.
        """
        wanted = frozenset({resource.key})
        async with self._lock:
            version = await asyncio.to_thread(self._read, lambda tx: tx.resource_version())
            if since is None:
                current = await asyncio.to_thread(
                    self._read, lambda tx: tx.find(resource.key, None)
                )
                first: list[ResourceEvent] = [{"type": "ADDED", "object": r} for r in current]
            else:
                replay = self._hub.since(since, wanted)
                if replay is None:
                    raise ApiError(
                        f"too old resource version: {since} ({self._hub.oldest})", code=410
                    )
                first = replay
            subscription = self._hub.subscribe(wanted)
        return first, subscription, version

    def end_watch(self, subscription: Subscription) -> None:
        """Forget a watch's subscription."""
        self._hub.unsubscribe(subscription)

    def _in_transaction(self, run: Callable[[Transaction], T]) -> T:
        with self._require_store().transaction() as tx:
            return run(tx)
