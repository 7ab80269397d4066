"""The local Argo CD: poll, render, compare, apply wave by wave, prune, self-heal.

One asyncio task per platform runs :meth:`GitOpsController.run`; each application is polled
every ``interval`` seconds (a push can also ask for a sync at once: :meth:`poke`). A sync:

1. fetches the repository and resolves the revision;
2. checks the commit out and builds the path with kustomize (an error fails the sync and
   leaves the live state as it was);
3. rewrites relative ``bulut.dev/function-path`` annotations to the checkout and stamps each
   function's revision template with the git tree id of its folder, so a commit that changes
   a function's code makes a new Revision (as a new image digest does on a cluster);
4. stores the cluster's Knative gates and limits first when the path does not carry them
   (the KnativeServing CR's ConfigMaps, the same decision as `bulut up -k`:
   :func:`bulut.manifests.validate.serving_configmaps_first`; platform configuration, so not
   tracked or pruned by the application), so the dry run judges the commit as the cluster's
   webhook would;
5. admits every document with a dry run (all or nothing), then applies the objects that are
   out of sync, wave by wave, waiting for each wave to be healthy before the next;
6. prunes the objects it manages that the commit no longer has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from bulut.errors import BulutError, ConflictError, InvalidInputError, NotFoundError
from bulut.manifests.loading import kustomize_build
from bulut.manifests.validate import serving_configmaps_first

from .application import Application, ApplicationStore, SyncRecord
from .health import Assessment, HealthCheck
from .plan import Health, ObjectPlan, SyncPlan, SyncStatus, diff_text, plan_sync, worst
from .source import Commit, Repository, normalise_url
from .tracking import ObjectRef

logger = logging.getLogger(__name__)

FUNCTION_PATH = "bulut.dev/function-path"
SOURCE_DIGEST = "bulut.dev/source-digest"
WAVE_TIMEOUT = 300.0
# Kinds that live outside namespaces: the app's namespace is never put on them.
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "ClusterDomainClaim",
        "StorageClass",
        "PersistentVolume",
    }
)


class Cluster(Protocol):
    """What the controller needs of the control plane (``bulut.controlplane.ControlPlane``)."""

    async def apply(
        self,
        documents: Sequence[Mapping[str, Any]],
        *,
        namespace: str | None = None,
        dry_run: bool = False,
    ) -> Any: ...

    async def list(self, kind: str, namespace: str | None = None) -> Any: ...

    async def delete(self, kind: str, namespace: str, name: str) -> None: ...


@dataclass(frozen=True)
class ObjectStatus:
    """One managed object: sync status, health and the wave it belongs to."""

    ref: ObjectRef
    sync: SyncStatus
    health: Assessment
    wave: int


@dataclass(frozen=True)
class ApplicationStatus:
    """What ``bulut gitops status`` and the dashboard show for one application."""

    app: Application
    sync: SyncStatus
    health: Health
    revision: Commit | None
    objects: tuple[ObjectStatus, ...]
    last_sync: SyncRecord | None
    error: str = ""


@dataclass
class _Rendered:
    """The newest commit rendered for an application, kept between polls."""

    commit: Commit
    documents: list[dict[str, Any]]
    serving_config: list[dict[str, Any]] = field(default_factory=list)


class GitOpsController:
    """Keeps every application's live objects equal to its repository."""

    def __init__(
        self,
        root: Path,
        cluster: Cluster,
        *,
        health: HealthCheck | None = None,
        wave_timeout: float = WAVE_TIMEOUT,
    ) -> None:
        self.root = root
        self.cluster = cluster
        self.health = health
        self.wave_timeout = wave_timeout
        self._store = ApplicationStore(root)
        self._apps: dict[str, Application] = {}
        self._rendered: dict[str, _Rendered] = {}
        self._errors: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._repository_locks: dict[str, asyncio.Lock] = {}
        self._pokes: dict[str, asyncio.Event] = {}
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._running = False
        self._synced = asyncio.Condition()
        self._counts: dict[str, int] = {}

    # -- applications --------------------------------------------------------
    def load(self) -> None:
        """Read the stored applications (call before :meth:`run`)."""
        self._apps = self._store.load()

    def applications(self) -> list[Application]:
        """Every application, by name."""
        return [self._apps[name] for name in sorted(self._apps)]

    def get(self, name: str) -> Application:
        """One application; NotFoundError naming the known ones."""
        try:
            return self._apps[name]
        except KeyError:
            known = ", ".join(sorted(self._apps)) or "none"
            raise NotFoundError(
                f"application {name!r} not found (known: {known}); add it with `bulut gitops add`",
                field="name",
            ) from None

    def add(self, app: Application) -> Application:
        """Register an application (its first sync starts at once when running)."""
        if app.name in self._apps:
            raise ConflictError(f"application {app.name!r} already exists", field="name")
        app = Application(**{**app.to_json(), "repo": normalise_url(app.repo)})
        self._apps[app.name] = app
        self._store.save(self._apps)
        if self._running:
            self._start_loop(app.name)
        return app

    async def remove(self, name: str, *, cascade: bool = True) -> list[str]:
        """Forget an application; with ``cascade`` delete the objects it manages first."""
        app = self.get(name)
        deleted: list[str] = []
        async with self._lock(name):
            if cascade:
                rendered = self._rendered.get(name)
                plan = await self._plan(app, rendered.documents if rendered else [])
                for item in sorted(plan.objects, key=lambda o: (-o.wave, o.ref)):
                    if item.live is not None:
                        await self._delete(item.ref)
                        deleted.append(str(item.ref))
            self._apps = self._store.forget(name, self._apps)
        loop = self._loops.pop(name, None)
        if loop is not None:
            loop.cancel()
        self._rendered.pop(name, None)
        return deleted

    def syncs(self, name: str) -> int:
        """How many syncs of ``name`` ended since the controller started."""
        return self._counts.get(name, 0)

    async def wait_for_sync(self, name: str, *, after: int) -> SyncRecord:
        """The record of the first sync of ``name`` to end after ``after`` syncs had ended."""
        async with self._synced:
            await self._synced.wait_for(lambda: self._counts.get(name, 0) > after)
        return self._store.history(name)[-1]

    def history(self, name: str) -> list[SyncRecord]:
        """The newest syncs of an application, oldest first."""
        self.get(name)
        return self._store.history(name)

    # -- status and diff -------------------------------------------------------
    async def status(self, name: str, *, refresh: bool = False) -> ApplicationStatus:
        """Sync status and health of an application and of each object it manages."""
        app = self.get(name)
        if refresh or name not in self._rendered:
            with contextlib.suppress(BulutError):
                await self._render(app)
        rendered = self._rendered.get(name)
        history = self._store.history(name)
        last = history[-1] if history else None
        if rendered is None:
            return ApplicationStatus(
                app, SyncStatus.UNKNOWN, Health.MISSING, None, (), last, self._errors.get(name, "")
            )
        plan = await self._plan(app, rendered.documents)
        objects = tuple(self._object_status(item) for item in plan.objects)
        return ApplicationStatus(
            app=app,
            sync=plan.status,
            health=worst(o.health.status for o in objects if o.ref in _desired_refs(plan)),
            revision=rendered.commit,
            objects=objects,
            last_sync=last,
            error=self._errors.get(name, ""),
        )

    async def diff(self, name: str) -> list[tuple[ObjectRef, str]]:
        """Live → desired diffs of the objects out of sync (``argocd app diff``)."""
        app = self.get(name)
        rendered = await self._render(app)
        plan = await self._plan(app, rendered.documents)
        diffs: list[tuple[ObjectRef, str]] = []
        for item in plan.objects:
            if item.status is not SyncStatus.OUT_OF_SYNC:
                continue
            if item.desired is None:
                diffs.append((item.ref, f"--- live/{item.ref}\n+++ (pruned)"))
            else:
                diffs.append((item.ref, diff_text(item.desired, item.live)))
        return diffs

    # -- syncing ---------------------------------------------------------------
    async def sync(self, name: str, *, trigger: str = "manual") -> SyncRecord:
        """Sync one application now (waits for a sync already running to end first)."""
        app = self.get(name)
        async with self._lock(name):
            return await self._sync(app, trigger)

    def poke(self, name: str) -> None:
        """Ask for a sync at the next turn of the application's loop (a push webhook)."""
        self.get(name)
        self._pokes.setdefault(name, asyncio.Event()).set()

    async def run(self) -> None:
        """Poll every application until cancelled."""
        self._running = True
        for name in list(self._apps):
            self._start_loop(name)
        try:
            await asyncio.Event().wait()
        finally:
            self._running = False
            for loop in self._loops.values():
                loop.cancel()
            await asyncio.gather(*self._loops.values(), return_exceptions=True)
            self._loops.clear()

    def _start_loop(self, name: str) -> None:
        self._loops[name] = asyncio.create_task(self._poll(name), name=f"gitops-{name}")

    async def _poll(self, name: str) -> None:
        poke = self._pokes.setdefault(name, asyncio.Event())
        while name in self._apps:
            app = self._apps[name]
            trigger = "webhook" if poke.is_set() else "poll"
            poke.clear()
            try:
                await self._reconcile(app, trigger)
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad turn must not end the loop
                logger.exception("gitops %s: reconcile failed", name)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(app.interval):
                    await poke.wait()

    async def _reconcile(self, app: Application, trigger: str) -> None:
        """Sync a new commit; else, with self-heal, revert drift."""
        async with self._lock(app.name):
            try:
                commit = await self._fetch(app)
            except BulutError as error:
                self._errors[app.name] = error.message
                return
            history = self._store.history(app.name)
            tried = history[-1].revision if history else None
            if commit.sha != tried or trigger == "webhook":
                await self._sync(app, trigger, fetched=True)
                return
            rendered = self._rendered.get(app.name)
            if not app.self_heal or rendered is None or not history[-1].succeeded:
                return
            plan = await self._plan(app, rendered.documents)
            if plan.status is SyncStatus.OUT_OF_SYNC:
                await self._sync(app, "self-heal", fetched=True)

    async def _sync(self, app: Application, trigger: str, *, fetched: bool = False) -> SyncRecord:
        started = time.time()
        commit: Commit | None = None
        applied: list[str] = []
        pruned: list[str] = []
        try:
            rendered = await self._render(app, fetch=not fetched)
            commit = rendered.commit
            plan = await self._plan(app, rendered.documents)
            if rendered.serving_config:
                await self.cluster.apply(rendered.serving_config)
            await self.cluster.apply(plan.to_apply, namespace=app.namespace, dry_run=True)
            for wave, documents in plan.waves:
                changed = [
                    d for d in documents if _plan_of(plan, d).status is SyncStatus.OUT_OF_SYNC
                ]
                if changed:
                    await self.cluster.apply(changed, namespace=app.namespace)
                    applied.extend(str(ObjectRef.of(d)) for d in changed)
                if wave != plan.waves[-1][0]:
                    await self._wait_healthy(documents)
            for item in plan.to_prune:
                await self._delete(item.ref)
                pruned.append(str(item.ref))
        except BulutError as error:
            record = SyncRecord(
                revision=commit.sha if commit else "",
                message=commit.message if commit else "",
                trigger=trigger,
                started_at=started,
                finished_at=time.time(),
                phase="Failed",
                detail=error.message,
                applied=applied,
                pruned=pruned,
            )
            self._errors[app.name] = error.message
            logger.warning("gitops %s: sync failed: %s", app.name, error.message)
        else:
            record = SyncRecord(
                revision=rendered.commit.sha,
                message=rendered.commit.message,
                trigger=trigger,
                started_at=started,
                finished_at=time.time(),
                phase="Succeeded",
                applied=applied,
                pruned=pruned,
            )
            self._errors.pop(app.name, None)
        self._store.record(app.name, record)
        async with self._synced:
            self._counts[app.name] = self._counts.get(app.name, 0) + 1
            self._synced.notify_all()
        return record

    async def _fetch(self, app: Application) -> Commit:
        """Bring the mirror up to date and resolve the application's revision."""
        async with self._repository_lock(app.name):
            return await self._resolve(app, fetch=True)

    async def _resolve(self, app: Application, *, fetch: bool) -> Commit:
        """The commit the revision names, fetched first if asked (hold the repository's lock)."""
        repository = self._repository(app)
        if fetch:
            await asyncio.to_thread(repository.fetch)
        return await asyncio.to_thread(repository.resolve, app.revision)

    async def _render(self, app: Application, *, fetch: bool = True) -> _Rendered:
        """Fetch, check out and build the application's path at its revision.

        Syncs hold the application's lock; status and diff do not. The repository's own lock
        keeps them from cloning, fetching or checking out in the same folders at once.
        """
        repository = self._repository(app)
        async with self._repository_lock(app.name):
            commit = await self._resolve(app, fetch=fetch)
            cached = self._rendered.get(app.name)
            if cached is not None and cached.commit == commit:
                return cached
            checkout = await asyncio.to_thread(repository.checkout, commit)
            folder = checkout / app.path
            if not folder.is_dir():
                raise InvalidInputError(
                    f"path {app.path!r} does not exist in {app.repo} at {commit.short}",
                    field="path",
                )
            loaded = await asyncio.to_thread(kustomize_build, folder)
            documents = [
                await asyncio.to_thread(
                    _localise, item.document, app, checkout, lambda p: repository.tree_id(commit, p)
                )
                for item in loaded
            ]
            serving_config = await asyncio.to_thread(serving_configmaps_first, folder, documents)
            rendered = _Rendered(commit, documents, serving_config)
            self._rendered[app.name] = rendered
            return rendered

    async def _plan(self, app: Application, desired: list[dict[str, Any]]) -> SyncPlan:
        kinds = {ObjectRef.of(d).kind_key for d in desired} | self._managed_kinds(app.name)
        live: list[dict[str, Any]] = []
        for kind in sorted(kinds):
            with contextlib.suppress(NotFoundError, InvalidInputError):
                live.extend(await self.cluster.list(kind))
        return plan_sync(app.name, desired, live, prune=app.prune)

    def _managed_kinds(self, name: str) -> set[str]:
        """Kinds (store keys) the last syncs applied (so a kind dropped from the repository is
        pruned)."""
        kinds: set[str] = set()
        for record in self._store.history(name):
            kinds.update(ObjectRef.parse(entry).kind_key for entry in record.applied)
        return kinds

    async def _wait_healthy(self, documents: Sequence[Mapping[str, Any]]) -> None:
        """Wait until every object of a wave is Healthy (Argo CD's gate between waves)."""
        refs = [ObjectRef.of(d) for d in documents]
        deadline = time.monotonic() + self.wave_timeout
        delay = 0.02
        while True:
            pending = [
                ref for ref in refs if (await self._health_of(ref)).status is not Health.HEALTHY
            ]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise InvalidInputError(
                    f"{pending[0]} did not become Healthy within {self.wave_timeout:.0f} s; "
                    "later sync waves were not applied"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def _health_of(self, ref: ObjectRef) -> Assessment:
        live = await self._live(ref)
        return self._assess(live)

    async def _live(self, ref: ObjectRef) -> dict[str, Any] | None:
        for item in await self.cluster.list(ref.kind_key, ref.namespace or None):
            if ObjectRef.of(item) == ref:
                return dict(item)
        return None

    def _assess(self, live: Mapping[str, Any] | None) -> Assessment:
        if self.health is None:
            return Assessment(Health.HEALTHY if live is not None else Health.MISSING)
        return self.health.assess(live)

    def _object_status(self, item: ObjectPlan) -> ObjectStatus:
        return ObjectStatus(item.ref, item.status, self._assess(item.live), item.wave)

    async def _delete(self, ref: ObjectRef) -> None:
        with contextlib.suppress(NotFoundError):
            await self.cluster.delete(ref.kind_key, ref.namespace, ref.name)

    def _repository(self, app: Application) -> Repository:
        return Repository(app.repo, self.root / app.name)

    def _lock(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())

    def _repository_lock(self, name: str) -> asyncio.Lock:
        return self._repository_locks.setdefault(name, asyncio.Lock())


def _desired_refs(plan: SyncPlan) -> set[ObjectRef]:
    return {o.ref for o in plan.objects if o.desired is not None}


def _plan_of(plan: SyncPlan, document: Mapping[str, Any]) -> ObjectPlan:
    ref = ObjectRef.of(document)
    return next(o for o in plan.objects if o.ref == ref)


def _localise(
    document: dict[str, Any],
    app: Application,
    checkout: Path,
    tree_id: Any,
) -> dict[str, Any]:
    """Namespace the document, and point function paths at the checkout with a code digest."""
    metadata = document.setdefault("metadata", {})
    if (
        app.namespace
        and not metadata.get("namespace")
        and document.get("kind") not in CLUSTER_SCOPED
    ):
        metadata["namespace"] = app.namespace
    template = ((document.get("spec") or {}).get("template") or {}).get("metadata") or {}
    annotations = template.get("annotations") or {}
    relative = annotations.get(FUNCTION_PATH)
    is_ksvc = ObjectRef.of(document).kind_key == "Service"
    if not is_ksvc or not isinstance(relative, str):
        return document
    if PurePosixPath(relative).is_absolute() or not (checkout / relative).is_dir():
        return document
    annotations[FUNCTION_PATH] = str(checkout / relative)
    digest = tree_id(relative)
    if digest:
        annotations[SOURCE_DIGEST] = digest
    return document
