"""The local platform as one object: control plane, serving and eventing on one loop.

This is the only place the planes meet (docs/adr/0001): each is built with what it needs
(observers, routes, mounts, hooks) as constructor parameters. `bulut up` and the
end-to-end tests both use :class:`LocalPlatform`, so what the tests prove is what users run.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.routing import Mount

from bulut.controlplane import ControlPlane
from bulut.controlplane.app import create_app
from bulut.dashboard import create_dashboard
from bulut.devloop.deploy import FUNCTION_PATH
from bulut.devloop.watch import FunctionWatcher, Reload
from bulut.edge.discovery import discovery_routes
from bulut.edge.hosts import HostGuard, HostPolicy
from bulut.errors import ConfigError, SecretUnavailableError
from bulut.eventing import Eventing
from bulut.gitops.application import Application
from bulut.gitops.controller import GitOpsController
from bulut.gitops.health import HealthCheck
from bulut.gitops.routes import create_router as gitops_routes
from bulut.httpd import InProcessPool, listen
from bulut.manifests.loading import kustomize_build, load_documents
from bulut.manifests.validate import serving_configmaps_first
from bulut.observability.exposition import metrics_route
from bulut.observability.logfiles import logs_root
from bulut.observability.stats import EdgeRejections, LastBackups
from bulut.observability.telemetry import Telemetry
from bulut.secrets import DevServer, Vault
from bulut.secrets.authroles import AuthRoles
from bulut.secrets.bootstrap import BootstrapReport, Seed, bootstrap
from bulut.secrets.connection import forget, remember
from bulut.serving import Serving
from bulut.serving.front import Front
from bulut.serving.kingress.controller import HAProxyIngress
from bulut.serving.kingress.haproxy import executable
from bulut.serving.podspec import ConfigMapReader, PodSpecHooks
from bulut.settings import Settings

from .databases import LocalPostgres
from .edge import guard, platform_issuer
from .ingress import choose_ingress, haproxy_ingress
from .layout import Layout
from .servers import EmbeddedServer, bind, embedded_server
from .stats import EventingStats, ServingStats

logger = logging.getLogger(__name__)


def load_paths(paths: Sequence[Path], *, kustomize: bool) -> list[dict[str, Any]]:
    """The documents of files/directories, or of kustomizations (``kubectl kustomize``)."""
    documents: list[dict[str, Any]] = []
    for path in paths:
        loaded = kustomize_build(path) if kustomize else load_documents(path)
        documents.extend(item.document for item in loaded)
    if kustomize and paths:
        # An overlay runs under the cluster's Knative gates and limits (its KnativeServing CR).
        documents[:0] = serving_configmaps_first(paths[0], documents)
    return documents


@dataclass
class LocalPlatform:
    """Control plane + data plane, started and stopped together."""

    settings: Settings
    sync_fanout: bool = False
    check_images: bool = True
    backup_to: str | None = None
    backup_endpoint: str | None = None
    backup_every: str | None = None
    backup_keep: int = 7
    ship_log: bool = False
    sync: Sequence[str] = ()
    vault: Vault = field(init=False)
    vault_report: BootstrapReport = field(init=False)
    _dev_vault: DevServer | None = field(init=False, default=None)
    telemetry: Telemetry = field(init=False)
    backups: LastBackups = field(init=False)
    dashboard: Any = field(init=False)
    pods: PodSpecHooks = field(init=False)
    databases: LocalPostgres = field(init=False)
    control: ControlPlane = field(init=False)
    serving: Serving = field(init=False)
    eventing: Eventing = field(init=False)
    front: Front | None = field(init=False, default=None)
    haproxy: HAProxyIngress | None = field(init=False, default=None)
    gitops: GitOpsController = field(init=False)
    _servers: list[EmbeddedServer] = field(init=False, default_factory=list)
    _tasks: list[asyncio.Task[Any]] = field(init=False, default_factory=list)

    @property
    def layout(self) -> Layout:
        """State directories."""
        return Layout(self.settings.state_dir, self.settings.builds_dir)

    @property
    def data_port(self) -> int:
        """The bound data-plane port (useful when settings asked for port 0)."""
        return self.settings.data_port

    @property
    def control_port(self) -> int:
        """The bound control-plane port."""
        return self.settings.control_port

    async def start(self) -> None:
        """Bind both ports, start the planes and the servers."""
        # Instances run with their volume as working directory: every path must be absolute.
        self.settings = self.settings.model_copy(
            update={
                "state_dir": self.settings.state_dir.resolve(),
                "functions_dir": self.settings.functions_dir.resolve(),
                "builds_dir": self.settings.builds.resolve(),
            }
        )
        self.layout.create()
        data_sock = bind(self.settings.host, self.settings.data_port)
        control_sock = bind(self.settings.host, self.settings.control_port)
        # Port 0 means "any": record what the kernel chose so URLs in status are right.
        self.settings = self.settings.model_copy(
            update={
                "data_port": data_sock.getsockname()[1],
                "control_port": control_sock.getsockname()[1],
            }
        )
        self.telemetry = Telemetry.create(
            self.layout.root,
            tracing=self.settings.tracing,
            metrics=self.settings.metrics,
            traces_per_second=self.settings.traces_per_second,
        )
        self.telemetry.start()
        metrics = self.telemetry.metrics
        recorders = self.telemetry.recorders  # None with BULUT_METRICS=false
        await self._start_vault()
        self.control = ControlPlane(self.settings, check_images=self.check_images)
        await self.control.start()
        # authentication-oidc: with auth on, the platform's own senders carry its tokens
        issuer = platform_issuer(self.settings)
        self.eventing = Eventing(
            self.settings,
            self.control,
            state_dir=self.layout.root,
            sync_fanout=self.sync_fanout,
            tracer=self.telemetry.tracer,
            metrics=recorders,
            observe=recorders.observe_eventing if recorders is not None else None,
            issuer=issuer,
            create=self.control.create,
        )
        self.databases = LocalPostgres(self.layout.root / "postgres")
        self.pods = PodSpecHooks(
            self.vault,
            ConfigMapReader(self.control),
            roles=self._auth_roles(),
            databases=self.databases,
            issuer=issuer,
        )
        self.serving = Serving(
            self.settings,
            self.control,
            functions_dir=self.settings.functions_dir,
            builds_dir=self.layout.builds,
            recipes_dir=self.layout.recipes,
            volumes_dir=self.layout.volumes,
            fallback=self.eventing.ingress_app,
            hooks=self.pods,
            tracer=self.telemetry.tracer,
            metrics=recorders,
            logs_dir=logs_root(self.layout.root),
        )
        self.backups = LastBackups()
        metrics.watch(
            revisions=ServingStats(self.serving),
            brokers=EventingStats(self.eventing),
            backups=self.backups,
        )
        self.gitops = self._gitops_controller()
        self.dashboard = create_dashboard(
            self.control,
            eventing_base="/eventing",
            dr_reports_dir=self.settings.reports.resolve(),
            metrics=metrics,
            gitops_base="/gitops",
        )
        await self.dashboard.start()
        control_app = create_app(
            self.control,
            routes=[
                metrics_route(metrics.registry),
                *gitops_routes(self.gitops).routes,
                *(discovery_routes(issuer) if issuer is not None else ()),
            ],
            # the dashboard last: it answers every other path
            mounts=[Mount("/eventing", self.eventing.admin_app), Mount("/", self.dashboard)],
        )
        self._tasks.append(asyncio.create_task(self.serving.run(), name="serving"))
        self._tasks.append(asyncio.create_task(self.eventing.run(), name="eventing"))
        self._tasks.append(asyncio.create_task(self.gitops.run(), name="gitops"))
        self._start_backups()
        hosts = HostPolicy.for_settings(self.settings)  # DNS rebinding, cross-origin writes
        control_edge = guard(control_app, self.settings, control_plane=True)
        self._serve(HostGuard(control_edge or control_app, hosts), control_sock)
        # The data plane's gateway: no ASGI on the warm path; the edge checks every request.
        edge = guard(
            self.serving.router.fallback,
            self.settings,
            control_plane=False,
            platform=issuer,
            authorizer=self.eventing.authorizer,
            audiences=self.eventing.front.audience,  # channels announce their own
        )
        metrics.watch(edge=EdgeRejections(control_edge, edge))
        ingress, why = choose_ingress(self.settings, executable())
        if why:
            logger.warning("ingress: the gateway serves the data plane: %s", why)
        self.front = Front(
            self.serving.router,
            # with HAProxy on the port, the gateway (the activator) listens on loopback behind it
            sock=data_sock if ingress == "gateway" else listen("127.0.0.1", 0),
            guard=edge,
            hosts=hosts,
            limits=self.settings.request_limits,
        )
        await self.front.start()
        # The broker's deliveries to the platform's own functions go to the gateway in-process,
        # not through a loopback socket (ADR 0029): the gateway does all it does for a socket.
        gateway = InProcessPool(self.front.gateway, self.settings.host, self.data_port)
        self.eventing.client.use(gateway)
        if ingress == "haproxy":
            self.haproxy = haproxy_ingress(self.front, data_sock, self.layout.root, self.settings)
            self.serving.listeners.append(self.haproxy.wake)
            await self.haproxy.start()
        await asyncio.gather(*(server.until_started() for server in self._servers))

    def _auth_roles(self) -> AuthRoles:
        """The Kubernetes auth roles beside the Vault policies (kubernetes-auth-roles.txt), so
        a pod's token carries its namespace's policy; none when there is no such file."""
        table = self.settings.vault_policies_dir.parent / "kubernetes-auth-roles.txt"
        return AuthRoles.load(table) if table.is_file() else AuthRoles()

    def _gitops_controller(self) -> GitOpsController:
        """The local Argo CD, with the repository's Lua health check when there is one, and
        the applications of ``--sync REPO#REV:PATH`` added when they are new."""
        script = self.settings.gitops_health_check
        health = HealthCheck.from_file(script) if script.is_file() else None
        controller = GitOpsController(self.layout.root / "gitops", self.control, health=health)
        controller.load()
        known = {app.name for app in controller.applications()}
        for spec in self.sync:
            app = Application.from_spec(spec, interval=self.settings.gitops_interval)
            if app.name not in known:
                controller.add(app)
        return controller

    def _start_backups(self) -> None:
        """Scheduled backups with retention, and log shipping (RPO for acked events -> 0)."""
        if self.backup_to is None:
            if self.backup_every or self.ship_log:
                raise ConfigError("--backup-every and --ship-log need --backup-to DIR|s3://...")
            return
        from bulut.dr.locations import parse_location
        from bulut.dr.schedule import BackupSchedule, parse_interval, run_schedule
        from bulut.dr.sealing import configured_key
        from bulut.dr.shipping import LogShipper

        location = parse_location(self.backup_to, endpoint=self.backup_endpoint)
        if self.backup_every:
            schedule = BackupSchedule(
                self.layout.root,
                location,
                parse_interval(self.backup_every),
                keep=self.backup_keep,
                database_url=self.settings.database_url,
                key=configured_key(self.settings),
            )
            self._tasks.append(
                asyncio.create_task(
                    run_schedule(
                        schedule,
                        on_backup=lambda _: self.backups.record("local", time.time()),
                        on_error=lambda error: logger.error("scheduled backup failed: %s", error),
                    ),
                    name="backups",
                )
            )
        if self.ship_log:
            shipper = LogShipper(self.layout.root, location)
            self._tasks.append(asyncio.create_task(shipper.run(), name="log-shipping"))

    async def _start_vault(self) -> None:
        """Use the configured Vault, or start a dev OpenBao; then load policies and seeds."""
        settings = self.settings
        if settings.vault_addr:
            self.vault = Vault(settings.vault_addr, settings.vault_token or "")
        else:
            self._dev_vault = DevServer(self.layout.root / "vault", host=settings.host)
            await self._dev_vault.start()
            self.vault = Vault(self._dev_vault.addr, self._dev_vault.token)
            remember(settings, self._dev_vault.addr, self._dev_vault.token)
        seed = Seed.load(settings.vault_seed) if settings.vault_seed.is_file() else None
        try:
            self.vault_report = await asyncio.to_thread(
                bootstrap, self.vault, policies_dir=settings.vault_policies_dir, seed=seed
            )
        except SecretUnavailableError as error:
            # Start anyway: revisions that need Vault say so and recover when it is back.
            logger.warning("Vault is not usable yet (%s); retrying in the background", error)
            self.vault_report = BootstrapReport()
            self._tasks.append(asyncio.create_task(self._bootstrap_later(seed), name="vault"))

    async def _bootstrap_later(self, seed: Seed | None) -> None:
        while True:
            await asyncio.sleep(5.0)
            try:
                self.vault_report = await asyncio.to_thread(
                    bootstrap, self.vault, policies_dir=self.settings.vault_policies_dir, seed=seed
                )
            except SecretUnavailableError:
                continue
            logger.info("Vault is back: policies and seed secrets loaded")
            return

    def _serve(self, app: Any, sock: socket.socket) -> None:
        """Serve an ASGI app (the control plane) with uvicorn on this loop (TLS off loopback)."""
        tls = self.control.access
        server = embedded_server(
            app,
            certfile=tls.cert_file if tls else None,
            keyfile=tls.key_file if tls else None,
        )
        self._servers.append(server)
        self._tasks.append(asyncio.create_task(server.serve(sockets=[sock]), name="server"))

    async def apply_paths(self, paths: Sequence[Path], *, kustomize: bool) -> list[Any]:
        """Apply YAML from files/directories (or kustomizations) through the control plane."""
        documents = await asyncio.to_thread(load_paths, paths, kustomize=kustomize)
        return await self.apply_documents(documents)

    async def apply_documents(self, documents: Sequence[dict[str, Any]]) -> list[Any]:
        """Apply loaded documents through the control plane (admission, then store)."""
        return list(await self.control.apply(list(documents)))

    async def watch_functions(self, on_reload: Callable[[Reload], None]) -> list[str]:
        """`bulut up --watch`: redeploy every Service whose function folder is local on each
        save of its files (a new Revision; the overlay's spec stays as applied). Returns once
        every watch is in place."""
        watched: list[str] = []
        ready: list[asyncio.Event] = []
        for service in await self.control.list("Service"):
            template = (service.get("spec") or {}).get("template") or {}
            folder = ((template.get("metadata") or {}).get("annotations") or {}).get(FUNCTION_PATH)
            if not folder or not Path(folder).is_dir():
                continue
            meta = service["metadata"]
            watcher = FunctionWatcher(
                Path(folder),
                meta["name"],
                meta["namespace"],
                self.control,
                builds_dir=self.layout.builds,
                on_reload=on_reload,
            )
            ready.append(asyncio.Event())
            self._tasks.append(
                asyncio.create_task(
                    watcher.run(on_ready=ready[-1].set), name=f"watch-{meta['name']}"
                )
            )
            watched.append(f"{meta['namespace']}/{meta['name']}")
        await asyncio.gather(*(event.wait() for event in ready))
        return watched

    async def _close(self, name: str) -> None:
        """Stop one part; one that never started is skipped, one that fails is logged."""
        part = getattr(self, name, None)
        if part is None:
            return
        try:
            await part.aclose()
        except Exception:  # keep stopping the rest; say what failed
            logger.exception("stopping %s failed", name)

    async def aclose(self) -> None:
        """Stop live streams and servers, then instances, eventing, the control plane, Vault."""
        await self._close("dashboard")
        for server in self._servers:
            server.should_exit = True
        if self.haproxy is not None:
            await self.haproxy.stop()
        if self.front is not None:
            await self.front.stop(grace=5.0)
        for part in ("serving", "pods", "eventing", "databases"):
            await self._close(part)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.control.aclose()
        if self._dev_vault is not None:
            await self._dev_vault.stop()
            forget(self.settings)
        await self.telemetry.aclose()
