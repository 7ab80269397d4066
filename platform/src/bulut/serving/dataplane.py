"""Serving: the data plane driven by a ResourceFeed (Knative's serving controllers, locally).

It watches Revisions, Routes, SinkBindings and the ``knative-serving`` ConfigMaps; keeps
one :class:`RevisionRuntime` per Revision (function environment built once, zygote,
instances, autoscaler); builds the router's host table from Route status; and reports
every revision's runtime facts back through ``feed.report`` whenever they change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from starlette.types import ASGIApp

from bulut.apis.rules.serving import container_concurrency
from bulut.errors import BulutError, SecretUnavailableError
from bulut.functions.catalog import resolve
from bulut.functions.environments import ensure_environment, record_recipe
from bulut.httpd import Handler
from bulut.manifests.feed import Resource, ResourceEvent, ResourceFeed, key_of
from bulut.observability.metrics import PlatformMetrics
from bulut.observability.tracer import Tracer
from bulut.serving.autoscaler import AutoscalerConfig, DeciderSpec, decider_spec
from bulut.serving.hijack import strip_hijacking
from bulut.serving.instances import Instance
from bulut.serving.launcher import StartQueue
from bulut.serving.networkpolicy import NetworkPolicies
from bulut.serving.resources import first_container, readiness_path
from bulut.serving.revisions import InstanceBudget, RevisionRuntime, RevisionSpec
from bulut.serving.router import Router
from bulut.serving.seeds import Seeds
from bulut.serving.sinks import sink_env
from bulut.serving.status import FALSE, GAUGE_SECONDS, UNKNOWN, condition, only_gauges_changed
from bulut.serving.traffic import host_table
from bulut.serving.zygote import Workload, prime_modes
from bulut.settings import Settings

logger = logging.getLogger(__name__)

KINDS = frozenset(
    {"Revision", "Route", "SinkBinding", "ConfigMap", "DomainMapping", "NetworkPolicy", "Namespace"}
)
SYSTEM_NAMESPACE = "knative-serving"
ROUTING_STATE = "serving.knative.dev/routingState"
ZYGOTE_ANNOTATION = "bulut.dev/zygote"
# "false": prime() is never called; "zygote": only in the zygote, not again in each parked child
PRIME_ANNOTATION = "bulut.dev/prime"
REPORT_INTERVAL = 1.0
Key = tuple[str, str]


SECRET_RETRY_SECONDS = 2.0
RETIRE_POLL_SECONDS = 0.05  # a replaced runtime checks this often whether it can close


class RevisionHooks(Protocol):
    """What `bulut up` plugs in around a revision (e.g. Vault Agent-style secret files)."""

    async def prepare(
        self, revision: Resource, env: dict[str, str], workdir: Path
    ) -> Mapping[str, str]:
        """Before the zygote starts: the env its instances get (may add or rewrite)."""
        ...

    async def release(self, namespace: str, name: str) -> None:
        """The revision is gone: clean up what ``prepare`` made."""
        ...


class Serving:
    """The local data plane: ``app`` for :8080, ``run()`` to follow the feed."""

    def __init__(
        self,
        settings: Settings,
        feed: ResourceFeed,
        *,
        functions_dir: Path,
        builds_dir: Path,
        volumes_dir: Path,
        recipes_dir: Path | None = None,
        fallback: ASGIApp | Handler | None = None,
        tick_interval: float = 2.0,
        hooks: RevisionHooks | None = None,
        tracer: Tracer | None = None,
        metrics: PlatformMetrics | None = None,
        logs_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.logs_dir = logs_dir
        self.feed = feed
        self.functions_dir = functions_dir
        self.builds_dir = builds_dir
        self.recipes_dir = recipes_dir  # state: which environments this platform runs
        self.volumes_dir = volumes_dir
        self.tick_interval = tick_interval
        self.hooks = hooks
        self.revisions: dict[Key, RevisionRuntime] = {}
        self.router = Router(self.revisions, fallback=fallback, tracer=tracer, metrics=metrics)
        self.network = NetworkPolicies()
        self.router.refusals = self.network.refusals  # the same dict: kept up to date
        self.start_queue = StartQueue(settings.zygote_starts)
        self.seeds = Seeds(enabled=settings.zygote_seeds)
        # How a revision waiting for a secret waits before it asks Vault again, and a
        # crash-looping revision before it restarts an instance (a test's clock records the
        # waits).
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self.budget = InstanceBudget(settings.max_instances)
        self._objects: dict[Key, Resource] = {}
        self._failed: dict[Key, tuple[dict[str, str], str]] = {}
        self._routes: dict[Key, Resource] = {}
        self._mappings: dict[Key, Resource] = {}
        self._bindings: dict[Key, Resource] = {}
        self._config: dict[str, dict[str, str]] = {}
        self._pending: dict[Key, dict[str, Any]] = {}
        self._builds: dict[Key, asyncio.Task[None]] = {}
        self._sent: dict[Key, dict[str, Any]] = {}
        self._sent_at: dict[Key, float] = {}  # when each report was last sent (monotonic)
        self._built_env: dict[Key, dict[str, str]] = {}
        self._dirty = asyncio.Event()
        # Called whenever a revision's runtime facts change (instances ready or gone): the
        # HAProxy ingress follows readiness through it (bulut.serving.kingress).
        self.listeners: list[Callable[[], None]] = []
        self._closing: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    @property
    def app(self) -> Router:
        """What the gateway serves (hosts not served go to the router's ``fallback``)."""
        return self.router

    # -- the feed ------------------------------------------------------------
    async def run(self) -> None:
        """Follow the feed until cancelled, reporting runtime facts as they change."""
        reporter = asyncio.get_running_loop().create_task(self._report_loop())
        try:
            async for event in self.feed.watch(KINDS):
                await self.apply(event)
        finally:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter

    async def apply(self, event: ResourceEvent) -> None:
        """Apply one watch event."""
        kind, namespace, name = key_of(event["object"])
        key, deleted = (namespace, name), event["type"] == "DELETED"
        if kind in ("NetworkPolicy", "Namespace", "Revision"):
            self.network.apply(kind, event["object"], deleted)
        if kind == "Route":
            self._routes.pop(key, None) if deleted else self._routes.update({key: event["object"]})
            self.router.table = host_table(self._routes.values(), self._mappings.values())
        elif kind == "DomainMapping":
            if deleted:
                self._mappings.pop(key, None)
            else:
                self._mappings[key] = event["object"]
            self.router.table = host_table(self._routes.values(), self._mappings.values())
        elif kind == "ConfigMap" and namespace == SYSTEM_NAMESPACE:
            data = event["object"].get("data") or {}
            self._config[name] = {} if deleted else {str(k): str(v) for k, v in data.items()}
            features = self._config.get("config-features", {})
            self.router.tag_header_routing = (
                features.get("tag-header-based-routing", "disabled").strip().lower() == "enabled"
            )
            for revision_key, runtime in self.revisions.items():
                self._update_decider(runtime, self._objects.get(revision_key, {}))
        elif kind == "SinkBinding":
            if deleted:
                self._bindings.pop(key, None)
            else:
                self._bindings[key] = event["object"]
            for revision_key, obj in list(self._objects.items()):
                if revision_key[0] == namespace:
                    self._ensure(revision_key, obj)
        elif kind == "Revision":
            if deleted:
                self._objects.pop(key, None)
                await self._remove(key)
            else:
                self._objects[key] = event["object"]
                self._ensure(key, event["object"])

    def _ensure(self, key: Key, obj: Resource) -> None:
        """Start (or restart, when its env changed) the runtime of a Revision.

        Once serving stops nothing starts: the control plane's watches outlive it for a
        moment (`bulut up` stops serving first), and a runtime started then would never be
        closed.
        """
        if self._stopping.is_set():
            return
        runtime = self.revisions.get(key)
        env = self._env_of(obj)
        if runtime is not None:
            if self._built_env.get(key) == env:
                self._update_decider(runtime, obj)
                return
        elif key in self._builds and not self._builds[key].done():
            return
        elif key in self._failed and self._failed[key] == (env, self._spec_of(obj)):
            return  # our own status report came back as MODIFIED: nothing new to try
        self._failed.pop(key, None)
        self._builds[key] = asyncio.get_running_loop().create_task(self._build(key, obj, env))

    @staticmethod
    def _spec_of(obj: Resource) -> str:
        """What of a Revision a failed build depended on (spec and annotations)."""
        meta = obj.get("metadata", {})
        return repr((obj.get("spec"), sorted((meta.get("annotations") or {}).items())))

    async def _build(self, key: Key, obj: Resource, env: dict[str, str]) -> None:
        built = self.router.building[key] = asyncio.Event()  # requests wait for it, not 503
        try:
            await self._build_runtime(key, obj, env)
        finally:
            del self.router.building[key]
            self.router.wanted.discard(key)
            built.set()
            self.router.changed()
        # A SinkBinding may have changed the env while this build ran: look again once
        # this task is done (an unchanged env is a no-op).
        asyncio.get_running_loop().call_soon(self._recheck, key)

    def _recheck(self, key: Key) -> None:
        latest = self._objects.get(key)
        if latest is not None:
            self._ensure(key, latest)

    async def _build_runtime(self, key: Key, obj: Resource, env: dict[str, str]) -> None:
        self._pending[key] = {
            "desiredScale": 0,
            "actualScale": 0,
            "readyInstances": 0,
            "conditions": [condition("ResourcesAvailable", UNKNOWN, "Deploying")],
        }
        self._dirty.set()
        env_before_hooks = dict(env)
        try:
            if self.hooks is not None:
                env = dict(await self._prepare_until_secrets_are_readable(key, obj, env))
            spec = await self._revision_spec(obj, env)
            decider = self._decider(obj)
        except BulutError as error:
            self._failed[key] = (env_before_hooks, self._spec_of(obj))
            failed = condition("ResourcesAvailable", FALSE, "ContainerMissing", str(error))
            health = condition("ContainerHealthy", FALSE, "ContainerMissing", str(error))
            self._pending[key] = {**self._pending[key], "conditions": [failed, health]}
            self._dirty.set()
            return
        self._pending.pop(key, None)
        if self._stopping.is_set():  # serving stopped while this build ran
            return
        self._built_env[key] = env_before_hooks
        old = self.revisions.get(key)
        runtime = RevisionRuntime(
            spec,
            decider,
            on_change=self._changed,
            on_ready=self._instance_ready,
            tick_interval=self.tick_interval,
            start_queue=self.start_queue,
            seeds=self.seeds,
            budget=self.budget,
            sleep=self.sleep,
        )
        self.revisions[key] = runtime
        if key in self.router.wanted:  # a request already waits: no queueing for its zygote
            runtime.launcher.wanted()
        runtime.start()
        if old is not None:
            self._close_later(old, drain=True)
        self._dirty.set()

    async def _prepare_until_secrets_are_readable(
        self, key: Key, obj: Resource, env: dict[str, str]
    ) -> Mapping[str, str]:
        """Run the hooks; while Vault is unavailable, say so and retry (Vault Agent's init)."""
        assert self.hooks is not None
        workdir = self.volumes_dir / key[0] / ".revisions" / key[1]
        while True:
            try:
                return await self.hooks.prepare(obj, env, workdir)
            except SecretUnavailableError as error:
                waiting = condition("ContainerHealthy", FALSE, "SecretUnavailable", str(error))
                resources = condition("ResourcesAvailable", UNKNOWN, "Deploying")
                self._pending[key] = {**self._pending[key], "conditions": [resources, waiting]}
                self._dirty.set()
                await self.sleep(SECRET_RETRY_SECONDS)

    def _changed(self) -> None:
        self._dirty.set()
        for listener in self.listeners:
            listener()

    def _update_decider(self, runtime: RevisionRuntime, obj: Resource) -> None:
        try:
            runtime.update_decider(self._decider(obj))
        except BulutError as error:
            logger.warning("revision %s keeps its autoscaling: %s", runtime.spec.name, error)

    def _close_later(self, runtime: RevisionRuntime, *, drain: bool = False) -> None:
        async def close() -> None:
            if drain:
                await _drained(runtime, self._stopping)
            await runtime.aclose()

        task = asyncio.get_running_loop().create_task(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _remove(self, key: Key) -> None:
        build = self._builds.pop(key, None)
        if build is not None:
            build.cancel()
        self._pending.pop(key, None)
        self._sent.pop(key, None)
        self._sent_at.pop(key, None)
        self._built_env.pop(key, None)
        self._failed.pop(key, None)
        runtime = self.revisions.pop(key, None)
        if runtime is not None:
            self._close_later(runtime)
        if self.hooks is not None:
            await self.hooks.release(key[0], key[1])

    # -- building a revision ----------------------------------------------------
    def _env_of(self, obj: Resource) -> dict[str, str]:
        container = first_container(obj)
        env = {
            str(item["name"]): str(item.get("value", ""))
            for item in container.get("env") or []
            if isinstance(item, Mapping) and "name" in item and "valueFrom" not in item
        }
        env, stripped = strip_hijacking(env, self.settings.allowed_env)
        if stripped:
            name = obj.get("metadata", {}).get("name", "")
            logger.warning(
                "revision %s: env %s stripped: it makes the interpreter run code "
                "(allow a name with BULUT_ALLOW_ENV)",
                name,
                ", ".join(sorted(stripped)),
            )
        env.update(sink_env(obj, self._bindings.values()))
        if self.logs_dir is not None:  # each instance's stdout/stderr, for `bulut logs`
            meta = obj.get("metadata", {})
            labels = meta.get("labels") or {}
            namespace, name = str(meta.get("namespace", "default")), str(meta.get("name", ""))
            service = str(labels.get("serving.knative.dev/service") or name)
            folder = self.logs_dir / namespace / service / name
            folder.mkdir(parents=True, exist_ok=True)
            env["BULUT_LOG_DIR"] = str(folder)
            env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def _instance_ready(self, spec: RevisionSpec, instance: Instance) -> None:
        """Record a cold start (fork or spawn) and how long it took."""
        if self.metrics is not None and instance.ready_at is not None:
            self.metrics.cold_start_finished(
                spec.namespace,
                spec.service,
                spec.name,
                instance.cold_start,
                instance.ready_at - instance.started_at,
            )

    def _defaults(self) -> dict[str, str]:
        return self._config.get("config-defaults", {})

    def _decider(self, obj: Resource) -> DeciderSpec:
        config = AutoscalerConfig.from_configmap(self._config.get("config-autoscaler", {}))
        meta = obj.get("metadata") or {}
        annotations = meta.get("annotations") or {}
        # Knative's PodAutoscaler reachability: a revision routes used to send traffic to and
        # no longer do (routingState reserve) is unreachable (scaled to zero, zygote released).
        reserve = (meta.get("labels") or {}).get(ROUTING_STATE) == "reserve"
        spec = decider_spec(
            config,
            annotations,
            container_concurrency(obj, self._defaults()),
            reachable=not reserve,
        )
        # admitted before a ceiling existed, or fed without admission: clamped, not refused
        return spec.within(replace(config, scale_ceiling=self.settings.max_scale).ceiling)

    async def _revision_spec(self, obj: Resource, env: dict[str, str]) -> RevisionSpec:
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        annotations = meta.get("annotations") or {}
        container = first_container(obj)
        project = resolve(str(container.get("image", "")), annotations, self.functions_dir)
        environment = await asyncio.to_thread(ensure_environment, project, self.builds_dir)
        if self.recipes_dir is not None:
            await asyncio.to_thread(record_recipe, environment, self.recipes_dir)
        service = str(labels.get("serving.knative.dev/service", ""))
        namespace = str(meta.get("namespace", "default"))
        cwd = self.volumes_dir / namespace / (service or str(meta.get("name", "")))
        cwd.mkdir(parents=True, exist_ok=True)
        prime, reprime = prime_modes(annotations.get(PRIME_ANNOTATION, "true"))
        workload = Workload.of(
            project,
            environment,
            readiness_path=readiness_path(container, project.flavour.is_kn_func),
            prime=prime,
            reprime=reprime,
        )
        spec = obj.get("spec") or {}
        defaults = self._defaults()
        timeout = float(
            spec.get("timeoutSeconds") or defaults.get("revision-timeout-seconds") or 300
        )
        response_start = float(
            spec.get("responseStartTimeoutSeconds")
            or defaults.get("revision-response-start-timeout-seconds")
            or 0
        )
        idle = float(
            spec.get("idleTimeoutSeconds") or defaults.get("revision-idle-timeout-seconds") or 0
        )
        return RevisionSpec(
            namespace=namespace,
            name=str(meta.get("name", "")),
            workload=workload,
            cwd=cwd,
            service=service,
            configuration=str(labels.get("serving.knative.dev/configuration", service)),
            container_concurrency=container_concurrency(obj, self._defaults()),
            timeout_seconds=timeout,
            response_start_timeout_seconds=response_start,
            idle_timeout_seconds=idle,
            env=env,
            use_zygote=str(annotations.get(ZYGOTE_ANNOTATION, "true")).lower() != "false",
        )

    # -- reporting --------------------------------------------------------------
    def reports(self) -> dict[Key, dict[str, Any]]:
        """The current runtime report of every known revision."""
        found = {key: dict(report) for key, report in self._pending.items()}
        for key, runtime in self.revisions.items():
            found[key] = runtime.runtime_report()
        return found

    async def _report_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):  # not wait_for: see Autoscaler.run
                async with asyncio.timeout(REPORT_INTERVAL):
                    await self._dirty.wait()
            self._dirty.clear()
            for key, body in self.reports().items():
                sent = self._sent.get(key)
                if sent == body:
                    continue
                # Gauges alone (memory, the activator's queue) wait (ADR 0029): even stored
                # without a reconcile (ADR 0032), a report costs the control plane ~3-5 ms.
                now = time.monotonic()
                if only_gauges_changed(sent, body) and now - self._sent_at[key] < GAUGE_SECONDS:
                    continue
                try:
                    await self.feed.report("Revision", *key, body)
                except BulutError as error:
                    logger.warning("report of %s/%s failed: %s", *key, error)
                    continue
                self._sent[key] = body
                self._sent_at[key] = now

    async def aclose(self) -> None:
        """Stop every instance and zygote (SIGTERM, then SIGKILL after the grace period)."""
        self._stopping.set()  # replaced runtimes stop draining and close now
        for build in self._builds.values():
            build.cancel()
        await asyncio.gather(*self._builds.values(), return_exceptions=True)
        runtimes = list(self.revisions.values())
        self.revisions.clear()
        await asyncio.gather(*(r.aclose() for r in runtimes), *self._closing)
        await self.seeds.aclose()


async def _drained(old: RevisionRuntime, stopping: asyncio.Event) -> None:
    """A runtime replaced because its env changed finishes what it already holds, as old
    pods do in a rollout (at most ``timeoutSeconds``, or until serving stops), while new
    requests go to its replacement. Requests it held are answered, not failed with 502."""
    deadline = time.monotonic() + old.spec.timeout_seconds
    while (old.activator.held or old.tracker.in_flight) and not stopping.is_set():
        if time.monotonic() > deadline:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(RETIRE_POLL_SECONDS):
                await stopping.wait()
