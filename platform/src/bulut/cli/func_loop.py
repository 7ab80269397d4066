"""`bulut func create|deploy|delete|describe|subscribe`: kn func's loop, on the local platform."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer

from bulut.devloop.deploy import Rollout, deploy as deploy_function, function_documents
from bulut.devloop.source import source_digest
from bulut.devloop.watch import FunctionWatcher, Reload
from bulut.errors import NotFoundError
from bulut.functions.scaffold import Template, create as create_project
from bulut.functions.subscriptions import add_subscription, parse_filters, write_func_yaml
from bulut.manifests.render import read_func_yaml
from bulut.settings import Settings

from .invocation import settings_of
from .output import console, err_console, print_table
from .remote import RemoteResources
from .resources import Namespace

PathArgument = Annotated[
    Path | None,
    typer.Argument(help="Function folder (default: the current one).", show_default=False),
]


def create(
    name: Annotated[str, typer.Argument(help="Function name (names the Knative Service).")],
    language: Annotated[str, typer.Option("-l", "--language", help="Language.")] = "python",
    template: Annotated[
        Template, typer.Option("-t", "--template", help="cloudevents or http.")
    ] = Template.CLOUDEVENTS,
    path: Annotated[
        Path | None, typer.Option("--path", "-p", help="Folder to create (default: ./NAME).")
    ] = None,
) -> None:
    """Create a Python function project, as `kn func create -l python -t TEMPLATE` does."""
    created = create_project(name, language=language, template=template, path=path)
    print_table(["FILE"], [[str(p.relative_to(created.root))] for p in created.files])
    console().print(
        f"\ncreated {template.value} function {name} in {created.root}\n"
        f"  bulut func run {created.root}      # serve it here\n"
        f"  bulut func test {created.root}     # run its tests\n"
        f"  bulut func deploy {created.root}   # deploy it to `bulut up`"
    )


def deploy(
    ctx: typer.Context,
    folder: PathArgument = None,
    namespace: Namespace = None,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Redeploy on every save until Ctrl-C.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for Ready.")] = 300.0,
) -> None:
    """Deploy a function to the running local platform, as `kn func deploy` does a cluster."""
    settings = settings_of(ctx)
    root = (folder or Path.cwd()).resolve()
    ns = settings.namespace
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_deploy(settings, root, ns, watch=watch, timeout=timeout))


async def _deploy(
    settings: Settings, root: Path, namespace: str, *, watch: bool, timeout: float
) -> None:
    progress = err_console()
    resources = RemoteResources(settings)
    try:
        with progress.status(f"deploying {root.name}…") as status:

            def report(line: str) -> None:
                progress.print(f"[dim]{line}")
                status.update(line)

            rollout = await deploy_function(
                resources, root, namespace, progress=report, timeout=timeout
            )
        _print_rollout(rollout)
        if not watch:
            return
        watcher = FunctionWatcher(
            root,
            rollout.service,
            namespace,
            resources,
            builds_dir=settings.builds,
            render=True,
            progress=lambda line: progress.print(f"[dim]{line}"),
            on_reload=_print_reload,
        )
        await watcher.run(on_ready=lambda: console().print(f"watching {root} (Ctrl-C stops)"))
    finally:
        await resources.aclose()


def _print_rollout(rollout: Rollout) -> None:
    verb = "deployed" if rollout.created else "unchanged"
    console().print(
        f"function {rollout.namespace}/{rollout.service} {verb}: revision {rollout.revision} "
        f"serves at {rollout.url} ({rollout.seconds:.2f} s)"
    )


def _print_reload(reload: Reload) -> None:
    if reload.ok:
        rebuilt = ", environment rebuilt" if reload.rebuilt else ""
        console().print(
            f"{reload.at} {reload.service}: {reload.revision} serves the new code "
            f"({reload.seconds:.2f} s{rebuilt})"
        )
    else:
        err_console().print(f"[red]{reload.at} {reload.service}: not deployed: {reload.error}")


def delete(ctx: typer.Context, folder: PathArgument = None, namespace: Namespace = None) -> None:
    """Delete a deployed function's Service and Triggers (kn func delete)."""
    settings = settings_of(ctx)
    root = (folder or Path.cwd()).resolve()
    documents = function_documents(root, digest="")
    ns = settings.namespace

    async def remove() -> list[str]:
        resources = RemoteResources(settings)
        gone: list[str] = []
        try:
            for document in reversed(documents):
                kind, name = document["kind"], document["metadata"]["name"]
                with contextlib.suppress(NotFoundError):
                    await resources.delete(kind, ns, name)
                    gone.append(f"{kind.lower()} {ns}/{name}")
        finally:
            await resources.aclose()
        return gone

    gone = asyncio.run(remove())
    if not gone:
        raise NotFoundError(f"function {documents[0]['metadata']['name']} is not deployed in {ns}")
    for line in gone:
        console().print(f"{line} deleted")


def describe(ctx: typer.Context, folder: PathArgument = None, namespace: Namespace = None) -> None:
    """Describe a function: name, image, namespace, route and subscriptions (kn func describe)."""
    settings = settings_of(ctx)
    root = (folder or Path.cwd()).resolve()
    func_yaml = read_func_yaml(root / "func.yaml")
    documents = function_documents(root, digest=source_digest(root))
    ns = settings.namespace

    async def fetch() -> dict[str, Any]:
        resources = RemoteResources(settings)
        try:
            return await resources.get("Service", ns, documents[0]["metadata"]["name"])
        finally:
            await resources.aclose()

    service = asyncio.run(fetch())
    status = service.get("status") or {}
    template = service["spec"]["template"]
    deployed_digest = (
        (template.get("metadata") or {}).get("annotations", {}).get("bulut.dev/source-digest")
    )
    current = documents[0]["spec"]["template"]["metadata"]["annotations"]["bulut.dev/source-digest"]
    out = console()
    out.print(f"Function name:\n  {func_yaml.get('name')}")
    out.print(f"Function is built in image:\n  {template['spec']['containers'][0]['image']}")
    out.print(f"Function is deployed in namespace:\n  {ns}")
    out.print(f"Routes:\n  {status.get('url', '')}")
    out.print(f"Revision:\n  {status.get('latestReadyRevisionName', '')}")
    out.print(
        "Code:\n  "
        + (
            "deployed code is current"
            if deployed_digest == current
            else "changed since the last deploy (run bulut func deploy)"
        )
    )
    subscriptions = ((func_yaml.get("deploy") or {}).get("subscriptions")) or []
    if subscriptions:
        out.print("Subscriptions (Source, Type):")
        for entry in subscriptions:
            filters = ", ".join(f"{k}={v}" for k, v in (entry.get("filters") or {}).items())
            out.print(f"  {entry.get('source')}  {filters or '(all events)'}")


def subscribe(
    folder: PathArgument = None,
    filters: Annotated[
        list[str] | None,
        typer.Option("--filter", "-f", help="ATTRIBUTE=VALUE (repeatable), e.g. type=com.x."),
    ] = None,
    source: Annotated[str, typer.Option("--source", "-s", help="Broker name.")] = "default",
) -> None:
    """Subscribe the function to events of a broker (edits func.yaml, as kn func subscribe)."""
    root = (folder or Path.cwd()).resolve()
    path = root / "func.yaml"
    data, added = add_subscription(read_func_yaml(path), source, parse_filters(filters or []))
    if not added:
        console().print("already subscribed: func.yaml unchanged")
        return
    write_func_yaml(path, data)
    console().print(
        f"{path}: subscribed to broker {source!r}; `bulut func deploy` creates its Trigger"
    )
