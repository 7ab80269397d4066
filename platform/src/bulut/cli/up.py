"""`bulut up`: run the whole local platform with the sample app until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bulut.edge.hosts import exposure
from bulut.processes import collector

from .invocation import setting, settings_of
from .output import console, err_console, print_table

if TYPE_CHECKING:
    from bulut.local import LocalPlatform

SAMPLE_OVERLAY = Path("gitops/overlays/dev")


def _ready(resource: dict[str, Any]) -> str:
    for condition in resource.get("status", {}).get("conditions", []):
        if condition.get("type") == "Ready":
            return str(condition.get("status", "Unknown"))
    return "Unknown"


async def _wait_for_services(platform: LocalPlatform, timeout: float) -> list[dict[str, Any]]:
    """Wait until every Service is Ready (first builds install dependencies: minutes)."""
    deadline = time.monotonic() + timeout
    services: list[dict[str, Any]] = []
    with err_console().status("building function environments and starting revisions…") as status:
        while time.monotonic() < deadline:
            services = await platform.control.list("Service")
            pending = [s["metadata"]["name"] for s in services if _ready(s) != "True"]
            if not pending:
                break
            status.update(f"waiting for {', '.join(sorted(pending))} to become Ready…")
            await asyncio.sleep(0.5)
    return services


def _print_summary(
    platform: LocalPlatform, services: list[dict[str, Any]], brokers: list[Any]
) -> None:
    settings = platform.settings
    print_table(
        ["SERVICE", "NAMESPACE", "URL", "READY"],
        (
            [
                s["metadata"]["name"],
                s["metadata"]["namespace"],
                s["status"].get("url", ""),
                _ready(s),
            ]
            for s in services
        ),
        title="Services",
    )
    rows = [
        [
            b["metadata"]["name"],
            b["metadata"]["namespace"],
            b.get("status", {}).get("address", {}).get("url", ""),
        ]
        for b in brokers
    ]
    if rows:
        print_table(["BROKER", "NAMESPACE", "URL"], rows, title="Brokers")
    out = console()
    out.print(f"\ncontrol plane  {settings.control_url}   (dashboard, /apis, /metrics)")
    if platform.control.access is not None:
        out.print(platform.control.access.announce(settings.control_url))
    out.print(f"data plane     {settings.data_url}")
    for line in exposure(settings):
        (err_console() if line.startswith(("WARNING", " ")) else out).print(line, markup=False)
    if rows:
        url = rows[0][2]
        out.print(
            "\nsend an event:\n"
            f"  curl -i {url} -H 'ce-specversion: 1.0' -H 'ce-id: 1' "
            "-H 'ce-source: /curl' -H 'ce-type: com.example.hello' "
            "-H 'content-type: application/json' -d '{\"hello\": \"world\"}'"
        )
    out.print("\nCtrl-C stops everything.")


@dataclass(frozen=True)
class Manifests:
    """What `bulut up` applies once the platform runs: files, or kustomizations."""

    paths: tuple[Path, ...] = ()
    kustomize: bool = False

    @classmethod
    def chosen(cls, files: list[Path], kustomizations: list[Path], sample: bool) -> Manifests:
        """-f files, else -k kustomizations, else the sample app (unless --no-sample, or
        --sync gives the platform its manifests)."""
        if files:
            return cls(tuple(files))
        if kustomizations:
            return cls(tuple(kustomizations), kustomize=True)
        if sample and SAMPLE_OVERLAY.is_dir():
            return cls((SAMPLE_OVERLAY,), kustomize=True)
        return cls()


def namespace_of(documents: list[dict[str, Any]]) -> str | None:
    """The namespace of the applied Services when they share one (the sample app's)."""
    found = {
        str((d.get("metadata") or {}).get("namespace") or "")
        for d in documents
        if d.get("kind") == "Service" and str(d.get("apiVersion", "")).startswith("serving.")
    }
    return found.pop() if len(found) == 1 and "" not in found else None


async def _run(
    platform: LocalPlatform,
    manifests: Manifests,
    wait: float,
    write_context: bool = True,
    *,
    watch: bool = False,
) -> None:
    from bulut import kubeconfig
    from bulut.local import load_paths

    os.umask(0o077)  # what the platform and its instances write is the user's only
    # Rendering the manifests (`kubectl kustomize`, ~0.2 s) does not need the platform:
    # it runs beside the start, off the loop, instead of delaying the first revision.
    documents = asyncio.ensure_future(
        asyncio.to_thread(load_paths, manifests.paths, kustomize=manifests.kustomize)
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await platform.start()
    except BaseException:
        documents.cancel()
        raise
    try:
        loaded = await documents
        if write_context:  # ports are bound now (0 means any): the context has the real ones
            path, context = kubeconfig.write_for(platform.settings, namespace_of(loaded))
            err_console().print(
                f'kubeconfig context "{kubeconfig.CONTEXT}" ({context.server}, namespace '
                f"{context.namespace}) written to {path}"
            )
        results = await platform.apply_documents(loaded)
        for result in results:
            err_console().print(f"{result.kind.lower()}/{result.name} {result.action}")
        services = await _wait_for_services(platform, wait)
        _print_summary(platform, services, await platform.control.list("Broker"))
        if watch:
            watched = await platform.watch_functions(_print_reload)
            console().print(f"watching {len(watched)} functions: {', '.join(watched)}")
        for app in platform.gitops.applications():
            console().print(f"gitops: {app.name} syncs {app.repo} {app.revision} {app.path}")
        collector.settle()  # start-up is over: see bulut.processes.collector
        await stop.wait()
    finally:
        err_console().print("stopping…")
        await platform.aclose()


def _print_reload(reload: Any) -> None:
    if reload.ok:
        console().print(
            f"{reload.at} {reload.service}: {reload.revision} serves the new code "
            f"({reload.seconds:.2f} s)"
        )
    else:
        err_console().print(f"[red]{reload.at} {reload.service}: not deployed: {reload.error}")


def up(
    ctx: typer.Context,
    state_dir: Annotated[Path | None, setting("state_dir")] = None,
    builds_dir: Annotated[Path | None, setting("builds_dir")] = None,
    host: Annotated[str | None, setting("host")] = None,
    data_port: Annotated[int | None, setting("data_port")] = None,
    control_port: Annotated[int | None, setting("control_port")] = None,
    ingress: Annotated[str | None, setting("ingress")] = None,
    kustomization: Annotated[
        list[Path] | None,
        typer.Option(
            "-k", "--kustomize", help="Kustomizations to apply (default: the sample app)."
        ),
    ] = None,
    filename: Annotated[
        list[Path] | None,
        typer.Option("-f", "--filename", help="YAML files or folders to apply."),
    ] = None,
    sample: Annotated[
        bool,
        typer.Option(
            "--sample/--no-sample",
            help=f"Apply the sample app ({SAMPLE_OVERLAY}) when no -f or -k is given.",
        ),
    ] = True,
    sync_fanout: Annotated[
        bool, typer.Option(help="Answer broker posts only after fan-out (Knative IMC style).")
    ] = False,
    wait: Annotated[float, typer.Option(help="Seconds to wait for services to be Ready.")] = 600.0,
    backup_to: Annotated[
        str | None, typer.Option(help="Backup location: a directory or s3://bucket/prefix.")
    ] = None,
    backup_endpoint: Annotated[
        str | None, typer.Option(help="S3 endpoint URL for an s3:// location.")
    ] = None,
    backup_every: Annotated[
        str | None, typer.Option(help="Back up on a schedule, e.g. 5m (needs --backup-to).")
    ] = None,
    backup_keep: Annotated[int, typer.Option(help="Scheduled backups to keep.")] = 7,
    backup_key_file: Annotated[
        Path | None,
        setting("backup_key_file", help="Seal Vault's unseal key in scheduled backups."),
    ] = None,
    ship_log: Annotated[
        bool, typer.Option(help="Ship the broker log continuously (RPO for acked events: 0).")
    ] = False,
    watch: Annotated[
        bool, typer.Option("--watch", help="Redeploy each local function on every save.")
    ] = False,
    sync: Annotated[
        list[str] | None,
        typer.Option(
            "--sync", help="GitOps: keep REPO#REVISION:PATH synced (repeatable), as Argo CD."
        ),
    ] = None,
    write_kubeconfig: Annotated[
        bool,
        typer.Option(
            "--kubeconfig/--no-kubeconfig",
            help="Write the kubeconfig context `bulut` (this platform) and make it current.",
        ),
    ] = True,
    log_json: Annotated[bool | None, setting("log_json", "--log-json")] = None,
    log_level: Annotated[str | None, setting("log_level")] = None,
) -> None:
    """Run the control plane and data plane with the sample app until Ctrl-C."""
    settings = settings_of(ctx)
    from bulut.local import LocalPlatform
    from bulut.observability.logs import configure_logging

    configure_logging(settings.log_level, json_lines=settings.log_json)
    manifests = Manifests.chosen(filename or [], kustomization or [], sample and not sync)
    platform = LocalPlatform(
        settings,
        sync_fanout=sync_fanout,
        backup_to=backup_to,
        backup_endpoint=backup_endpoint,
        backup_every=backup_every,
        backup_keep=backup_keep,
        ship_log=ship_log,
        sync=tuple(sync or ()),
    )
    import uvloop

    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(_run(platform, manifests, wait, write_kubeconfig, watch=watch))
