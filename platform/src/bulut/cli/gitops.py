"""`bulut gitops add|list|status|diff|sync|history|delete|hook`: Argo CD's loop, locally.

The platform (`bulut up`) runs the controller; these commands call its ``/gitops`` API.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from bulut.gitops.hooks import install_hook
from bulut.gitops.source import normalise_url

from .groups import command_group
from .invocation import settings_of
from .output import console, print_table
from .resources import ControlPlaneClient

AppArgument = Annotated[str, typer.Argument(help="Application name.")]


def _client(ctx: typer.Context) -> ControlPlaneClient:
    return ControlPlaneClient(settings_of(ctx))


def _when(timestamp: float | None) -> str:
    if not timestamp:
        return ""
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%H:%M:%S")


def _commit(app: dict[str, Any]) -> str:
    commit = app.get("commit")
    return f"{commit['sha'][:7]} {commit['message']}" if commit else ""


def add(
    ctx: typer.Context,
    name: AppArgument,
    repo: Annotated[str, typer.Option("--repo", help="Git URL, or a local path or bare repo.")],
    path: Annotated[str, typer.Option("--path", help="Folder to build with kustomize.")] = ".",
    revision: Annotated[str, typer.Option("--revision", help="Branch, tag or SHA.")] = "HEAD",
    namespace: Annotated[
        str | None, typer.Option("-n", "--namespace", help="Namespace for objects without one.")
    ] = None,
    prune: Annotated[
        bool, typer.Option("--prune/--no-prune", help="Delete what the repo drops.")
    ] = True,
    self_heal: Annotated[
        bool, typer.Option("--self-heal/--no-self-heal", help="Revert hand edits.")
    ] = True,
    interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 3.0,
) -> None:
    """Add an application: REPO at REVISION, folder PATH, synced now and on every change."""
    body = {
        "name": name,
        "repo": normalise_url(repo),
        "path": path,
        "revision": revision,
        "namespace": namespace,
        "prune": prune,
        "selfHeal": self_heal,
        "interval": interval,
    }
    app = _client(ctx).request("POST", "/gitops/apps", json=body)
    console().print(
        f"application {app['name']} added: {app['repo']} {app['revision']} {app['path']}"
    )


def list_apps(
    ctx: typer.Context,
) -> None:
    """Every application with its sync status and health."""
    apps = _client(ctx).request("GET", "/gitops/apps")
    if not apps:
        console().print("No applications (add one with `bulut gitops add`).")
        return
    print_table(
        ["NAME", "REPO", "PATH", "REVISION", "SYNC", "HEALTH", "LAST SYNC"],
        [
            [
                a["name"],
                a["repo"],
                a["path"],
                _commit(a),
                a["sync"],
                a["health"],
                _last(a.get("lastSync")),
            ]
            for a in apps
        ],
    )


def _last(record: dict[str, Any] | None) -> str:
    if not record:
        return ""
    return f"{record['phase']} {_when(record['finished_at'])} ({record['trigger']})"


def status(ctx: typer.Context, name: AppArgument) -> None:
    """One application and each object it manages (sync, health, wave)."""
    app = _client(ctx).request("GET", f"/gitops/apps/{name}")
    out = console()
    out.print(f"Name:       {app['name']}")
    out.print(f"Source:     {app['repo']} {app['revision']} {app['path']}")
    out.print(f"Revision:   {_commit(app)}")
    out.print(f"Sync:       {app['sync']}")
    out.print(f"Health:     {app['health']}")
    out.print(f"Last sync:  {_last(app.get('lastSync'))}")
    if app.get("error"):
        out.print(f"Error:      {app['error']}")
    print_table(
        ["KIND", "NAMESPACE", "NAME", "SYNC", "HEALTH", "WAVE", "MESSAGE"],
        [
            [o["kind"], o["namespace"], o["name"], o["sync"], o["health"], o["wave"], o["message"]]
            for o in app.get("objects", [])
        ],
    )


def diff(ctx: typer.Context, name: AppArgument) -> None:
    """Live → desired diffs of the objects out of sync (exit 1 when there are any)."""
    answer = _client(ctx).request("GET", f"/gitops/apps/{name}/diff")
    if not answer["diffs"]:
        console().print(f"{name}: in sync")
        return
    for item in answer["diffs"]:
        console().print(item["diff"], markup=False, highlight=False)
    raise typer.Exit(1)


def sync(ctx: typer.Context, name: AppArgument) -> None:
    """Sync now and print the result (exit 1 when it failed)."""
    record = _client(ctx).request("POST", f"/gitops/{name}/sync", params={"wait": "true"})
    out = console()
    out.print(f"{name}: {record['phase']} at {record['revision'][:7]} {record['message']}")
    for ref in record.get("applied", []):
        out.print(f"  applied {ref}")
    for ref in record.get("pruned", []):
        out.print(f"  pruned  {ref}")
    if record["phase"] != "Succeeded":
        out.print(f"  {record['detail']}", markup=False)
        raise typer.Exit(1)


def history(ctx: typer.Context, name: AppArgument) -> None:
    """The newest syncs of an application."""
    records = _client(ctx).request("GET", f"/gitops/apps/{name}/history")
    print_table(
        ["FINISHED", "REVISION", "MESSAGE", "TRIGGER", "PHASE", "DETAIL"],
        [
            [
                _when(r["finished_at"]),
                r["revision"][:7],
                r["message"],
                r["trigger"],
                r["phase"],
                r["detail"],
            ]
            for r in reversed(records)
        ],
    )


def delete(
    ctx: typer.Context,
    name: AppArgument,
    cascade: Annotated[
        bool, typer.Option("--cascade/--no-cascade", help="Delete the objects it manages too.")
    ] = True,
) -> None:
    """Forget an application (and, by default, delete what it manages)."""
    answer = _client(ctx).request("DELETE", f"/gitops/apps/{name}", params={"cascade": cascade})
    for ref in answer["deleted"]:
        console().print(f"{ref} deleted")
    console().print(f"application {name} deleted")


def hook(
    ctx: typer.Context,
    name: AppArgument,
    repo: Annotated[Path, typer.Option("--repo", help="The repository pushes go to.")],
) -> None:
    """Install a post-receive hook in REPO that syncs NAME as soon as a push lands."""
    settings = settings_of(ctx)
    url = f"{settings.control_url}/gitops/{name}/sync"
    path = install_hook(repo, url)
    console().print(f"{path}: a push now syncs {name} at once ({url})")


def group() -> typer.Typer:
    """`bulut gitops ...`."""
    return command_group(
        "Sync git repositories into the local platform, as Argo CD syncs a cluster.",
        {
            "add": add,
            "list": list_apps,
            "status": status,
            "diff": diff,
            "sync": sync,
            "history": history,
            "delete": delete,
            "hook": hook,
        },
    )
