"""Serving for tests: an in-memory ResourceFeed and a running data plane (the Serving
object behind a real front on an ephemeral port), and the signals tests wait on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bulut.httpd import listen
from bulut.manifests.feed import Resource, ResourceEvent, initial_order
from bulut.serving import Serving
from bulut.serving.dataplane import RevisionHooks
from bulut.serving.front import Front
from bulut.serving.kingress.controller import HAProxyIngress
from bulut.settings import Settings
from tests.support.waiting import eventually

DOMAIN = "localhost"
SERVE_MODE = {"autoscaling.knative.dev/target-burst-capacity": "0"}  # no activator in the path


class MemoryFeed:
    """A ResourceFeed kept in memory: tests put Knative JSON in, read reports out."""

    def __init__(self, stored: Sequence[Resource] = ()) -> None:
        self.stored = list(stored)
        self.events: asyncio.Queue[ResourceEvent] = asyncio.Queue()
        self.reports: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.waiting = False  # the watcher applied everything and waits for the next event

    async def watch(
        self, kinds: frozenset[str], *, existing: bool = True
    ) -> AsyncIterator[ResourceEvent]:
        """``stored`` as ADDED in the feed's initial order (unless ``existing`` is False),
        then every event put."""
        for obj in initial_order(self.stored) if existing else ():
            if obj.get("kind") in kinds:
                yield {"type": "ADDED", "object": obj}
        while True:
            self.waiting = True
            event = await self.events.get()
            self.waiting = False
            if event["object"].get("kind") in kinds:
                yield event

    @property
    def drained(self) -> bool:
        """Every event put so far was handed to the watcher, which asked for the next."""
        return self.waiting and self.events.empty()

    async def report(
        self, kind: str, namespace: str, name: str, runtime: Mapping[str, Any]
    ) -> None:
        """Keep the latest report of each resource."""
        self.reports[(kind, namespace, name)] = dict(runtime)

    def put(self, obj: Resource, type_: str = "ADDED") -> None:
        """Announce a resource change."""
        self.events.put_nowait({"type": type_, "object": obj})  # type: ignore[typeddict-item]

    def revision_report(self, name: str, namespace: str = "default") -> dict[str, Any]:
        """The latest report of a Revision (empty before the first)."""
        return self.reports.get(("Revision", namespace, name), {})


class WatchedPrepare:
    """A RevisionHooks that records the env of every build (one prepare per build). With
    ``held``, each prepare waits until the test sets ``go`` (a slow Vault, in `bulut up`)."""

    def __init__(self, *, held: bool = False) -> None:
        self.builds: list[dict[str, str]] = []
        self.entered = asyncio.Event()
        self.go = asyncio.Event()
        if not held:
            self.go.set()

    async def prepare(
        self, revision: dict[str, Any], env: dict[str, str], workdir: Path
    ) -> dict[str, str]:
        self.builds.append(dict(env))
        self.entered.set()
        await self.go.wait()
        return env

    async def release(self, namespace: str, name: str) -> None:
        pass


def revision(
    service: str,
    number: int = 1,
    *,
    function: str | None = None,
    annotations: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    container_concurrency: int = 0,
    timeout_seconds: int = 300,
    namespace: str = "default",
) -> Resource:
    """A Revision as the control plane stamps it."""
    name = f"{service}-{number:05d}"
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Revision",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                "serving.knative.dev/service": service,
                "serving.knative.dev/configuration": service,
            },
            "annotations": dict(annotations or {}),
        },
        "spec": {
            "containers": [
                {
                    "image": f"registry.local/{function or service}:latest",
                    "env": [{"name": k, "value": v} for k, v in (env or {}).items()],
                }
            ],
            "containerConcurrency": container_concurrency,
            "timeoutSeconds": timeout_seconds,
        },
    }


def route(
    service: str,
    targets: list[tuple[str, int, str]],
    *,
    namespace: str = "default",
    port: int = 8080,
) -> Resource:
    """A Route with resolved status traffic: (revisionName, percent, tag) each."""
    traffic = []
    for revision_name, percent, tag in targets:
        entry: dict[str, Any] = {"revisionName": revision_name, "percent": percent}
        if tag:
            entry["tag"] = tag
            entry["url"] = f"http://{tag}-{service}.{namespace}.{DOMAIN}:{port}"
        traffic.append(entry)
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Route",
        "metadata": {"name": service, "namespace": namespace},
        "status": {"url": f"http://{service}.{namespace}.{DOMAIN}:{port}", "traffic": traffic},
    }


@dataclass
class DataPlane:
    """A running Serving with its front, feed and an HTTP client aimed at the front."""

    serving: Serving
    feed: MemoryFeed
    front: Front
    client: httpx.AsyncClient
    volumes_dir: Path
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    haproxy: HAProxyIngress | None = None  # on the client's port, the front behind it

    def host(self, service: str, namespace: str = "default", tag: str = "") -> dict[str, str]:
        """The Host header of a service (or of one of its tags)."""
        name = f"{tag}-{service}" if tag else service
        return {"host": f"{name}.{namespace}.{DOMAIN}"}

    async def wait_for(
        self, condition: Callable[[], bool], what: str, timeout: float = 30.0
    ) -> None:
        """Wait until ``condition`` holds; fail naming ``what`` and the reports at the deadline."""
        await eventually(condition, f"{what}; reports: {self.feed.reports}", timeout=timeout)

    async def settled(self) -> None:
        """Wait until Serving applied every feed event and every build it started (and any
        build those started) ended: from then on nothing is rebuilt until the feed changes."""
        builds = self.serving._builds
        while True:
            await self.wait_for(lambda: self.feed.drained, "the feed to be applied")
            running = [task for task in builds.values() if not task.done()]
            if not running:
                return
            await asyncio.gather(*running, return_exceptions=True)

    async def wait_ready(self, name: str, count: int = 1, timeout: float = 60.0) -> None:
        """Wait until revision ``name`` reports ``count`` ready instances."""
        await self.wait_for(
            lambda: self.feed.revision_report(name).get("readyInstances", 0) >= count,
            f"{name} to have {count} ready instance(s)",
            timeout,
        )

    async def wait_built(self, name: str, namespace: str = "default") -> None:
        """Wait until the runtime of revision ``name`` exists (environment built)."""
        await self.wait_for(
            lambda: (namespace, name) in self.serving.revisions, f"{name} to be built", 25.0
        )


async def start_data_plane(
    tmp_path: Path,
    functions_dir: Path,
    builds_dir: Path,
    *,
    tick_interval: float = 0.5,
    autoscaler: Mapping[str, str] | None = None,
    hooks: RevisionHooks | None = None,
    existing: Sequence[Resource] = (),
    settings: Settings | None = None,
    ingress: str = "gateway",
) -> DataPlane:
    """A Serving fed by a MemoryFeed, served on an ephemeral loopback port (by the gateway,
    or by HAProxy with the gateway behind it: ``ingress="haproxy"``).

    ``existing`` is in the feed before Serving watches it (what a restart finds stored).
    """
    feed = MemoryFeed(stored=existing)
    volumes = tmp_path / "volumes"
    serving = Serving(
        settings or Settings(),
        feed,
        functions_dir=functions_dir,
        builds_dir=builds_dir,
        volumes_dir=volumes,
        tick_interval=tick_interval,
        hooks=hooks,
    )
    feed.put(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "config-autoscaler", "namespace": "knative-serving"},
            "data": {"allow-zero-initial-scale": "true", **(autoscaler or {})},
        }
    )
    front = Front(serving.app)
    await front.start()
    port, haproxy = front.port, None
    if ingress == "haproxy":
        listener = listen("127.0.0.1", 0)
        port = int(listener.getsockname()[1])
        haproxy = HAProxyIngress(
            serving.router,
            listener,
            f"127.0.0.1:{front.port}",
            tmp_path / "haproxy",
            traces_per_second=100.0,  # bulut up's default budget: the config must take it
        )
        serving.listeners.append(haproxy.wake)
        await haproxy.start()
    runner = asyncio.get_running_loop().create_task(serving.run())
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30.0)
    return DataPlane(serving, feed, front, client, volumes, [runner], haproxy)


async def stop_data_plane(plane: DataPlane) -> None:
    """Stop everything start_data_plane started."""
    await plane.client.aclose()
    for task in plane.tasks:
        task.cancel()
    await asyncio.gather(*plane.tasks, return_exceptions=True)
    if plane.haproxy is not None:
        await plane.haproxy.stop()
    await plane.serving.aclose()
    await plane.front.stop()
