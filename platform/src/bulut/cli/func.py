"""`bulut func`: build, test, invoke, run and list local function projects.

``bulut func run`` lives in :mod:`bulut.cli.func_run`; :func:`group` attaches it too.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
import typer

from bulut import events
from bulut.errors import InstanceError, InvalidInputError
from bulut.functions.catalog import discover
from bulut.functions.environments import Environment, ensure_environment
from bulut.functions.project import FunctionProject, load_project
from bulut.settings import Settings

from .invocation import setting, settings_of
from .output import console, err_console, print_table
from .resources import Namespace

DEFAULT_TYPE = "boson.fn"  # kn func invoke's defaults
DEFAULT_SOURCE = "/boson/fn"
DEFAULT_DATA = '{"message":"Hello World"}'

DirArgument = Annotated[Path, typer.Argument(help="The function folder.", show_default=False)]
BuildsDirOption = Annotated[
    Path | None, setting("builds_dir", help="Where environments are built.")
]


def group() -> typer.Typer:
    """`bulut func ...`."""
    from . import func_loop
    from .func_run import run

    func_app = typer.Typer(
        name="func",
        help="Build, test, invoke and list local function projects.",
        no_args_is_help=True,
    )
    func_app.command("build")(build)
    func_app.command(
        "test",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(test)
    func_app.command("invoke")(invoke)
    func_app.command("list")(list_functions)
    func_app.command("prune")(prune_environments)
    func_app.command("run")(run)
    for command in (
        func_loop.create,
        func_loop.deploy,
        func_loop.delete,
        func_loop.describe,
        func_loop.subscribe,
    ):
        func_app.command(command.__name__)(command)
    return func_app


def build(ctx: typer.Context, folder: DirArgument, builds_dir: BuildsDirOption = None) -> None:
    """Build the function's environment (once; later builds reuse it) and print its path."""
    environment = built_environment(load_project(folder), settings_of(ctx))
    print(environment.root)


def test(
    ctx: typer.Context,
    folder: DirArgument,
    pytest_args: Annotated[
        list[str] | None,
        typer.Argument(help="Arguments for pytest, after `--`.", show_default=False),
    ] = None,
    builds_dir: BuildsDirOption = None,
) -> None:
    """Run the function's own tests in its folder with its environment's Python."""
    project = load_project(folder)
    environment = built_environment(project, settings_of(ctx))
    environ = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    command = [str(environment.python), "-m", "pytest", *(pytest_args or [])]
    err_console().print(f"[dim]{project.name}: {' '.join(command[1:])} (in {project.path})")
    completed = subprocess.run(command, cwd=project.path, env=environ, check=False)
    raise typer.Exit(completed.returncode)


def invoke(
    ctx: typer.Context,
    folder: Annotated[
        Path | None,
        typer.Argument(help="Function folder (default: the current one).", show_default=False),
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Send here instead of the function's local route.")
    ] = None,
    data: Annotated[str, typer.Option(help="Event data.")] = DEFAULT_DATA,
    type: Annotated[str, typer.Option(help="Event type.")] = DEFAULT_TYPE,  # noqa: A002
    source: Annotated[str, typer.Option(help="Event source.")] = DEFAULT_SOURCE,
    id: Annotated[  # noqa: A002
        str | None, typer.Option(help="Event id (default: a new UUID).")
    ] = None,
    content_type: Annotated[
        str, typer.Option("--content-type", help="datacontenttype of the data.")
    ] = "application/json",
    structured: Annotated[
        bool, typer.Option("--structured", help="Structured mode instead of binary.")
    ] = False,
    header: Annotated[
        list[str] | None, typer.Option("--header", "-H", help="Extra header `Name: value`.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the answer.")] = 60.0,
    namespace: Namespace = None,
) -> None:
    """Send a CloudEvent to a function (binary mode, as `kn func invoke`) and print the reply."""
    settings = settings_of(ctx)
    target = url or _local_url(load_project(folder or Path.cwd()), settings)
    event = events.new_event(
        type=type,
        source=source,
        id=id,
        data=_event_data(data, content_type),
        datacontenttype=content_type,
    )
    headers, body = events.encode_structured(event) if structured else events.encode_binary(event)
    headers.update(_extra_headers(header or []))
    connect_url, host = _connection(target, settings)
    if host is not None:
        headers["host"] = host
    try:
        response = httpx.post(connect_url, headers=headers, content=body, timeout=timeout)
    except httpx.HTTPError as error:
        raise InstanceError(f"could not reach {target}: {error}; is `bulut up` running?") from None
    _print_answer(response)
    if response.status_code >= 400:
        raise typer.Exit(1)


def list_functions(
    ctx: typer.Context,
    functions_dir: Annotated[
        Path | None, setting("functions_dir", "--dir", help="Folder of function folders.")
    ] = None,
) -> None:
    """List the function projects found in a folder."""
    folder = settings_of(ctx).functions_dir
    catalog = discover(folder)
    rows = [
        [project.name, project.flavour.value, _relative(project.path)]
        for project in catalog.values()
    ]
    print_table(["NAME", "FLAVOUR", "PATH"], rows)


def prune_environments(
    ctx: typer.Context,
    builds_dir: BuildsDirOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")] = False,
) -> None:
    """Delete environments no function needs any more (stop `bulut up` first)."""
    from bulut.functions.environments import prune

    builds = settings_of(ctx).builds
    stale = prune(builds, dry_run=dry_run)
    if not stale:
        console().print(f"nothing to prune in {builds}")
        return
    print_table(
        ["ENVIRONMENT", "PROJECT", "SIZE", "WHY"],
        [
            [e.root.name, e.project or "?", f"{e.size / 2**20:.0f} MiB", e.stale or ""]
            for e in stale
        ],
    )
    freed = sum(e.size for e in stale) / 2**20
    verb = "would free" if dry_run else "freed"
    console().print(f"{len(stale)} environments, {verb} {freed:.0f} MiB in {builds}")


# ---------------------------------------------------------------------- helpers


def built_environment(project: FunctionProject, settings: Settings) -> Environment:
    """The function's environment in the settings' builds, built once, with progress on
    stderr (`bulut func build/test/run`)."""
    progress = err_console()
    return ensure_environment(
        project, settings.builds, progress=lambda line: progress.print(f"[dim]{line}")
    )


def _local_url(project: FunctionProject, settings: Settings) -> str:
    """The function's route on the local data plane: http://<name>.<ns>.<domain>:<port>."""
    port = "" if settings.data_port == 80 else f":{settings.data_port}"
    return f"http://{project.name}.{settings.namespace}.{settings.domain}{port}/"


def _connection(url: str, settings: Settings) -> tuple[str, str | None]:
    """Where to connect, and the Host header to keep, for ``url``.

    A ``*.<domain>`` URL goes to the data plane on ``settings.host`` with its Host header
    kept, so no DNS is needed for ``*.localhost``.
    """
    parts = urlsplit(url)
    hostname = parts.hostname or ""
    if not hostname.endswith("." + settings.domain):
        return url, None
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    connect = f"http://{settings.host}:{parts.port or settings.data_port}{path}{query}"
    return connect, parts.netloc


def _event_data(data: str, content_type: str) -> Any:
    if not events.is_json_media_type(content_type):
        return data
    try:
        return json.loads(data)
    except ValueError as error:
        raise InvalidInputError(
            f"--data is not valid JSON ({error}); pass JSON or set --content-type text/plain",
            field="--data",
        ) from None


def _extra_headers(values: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise InvalidInputError(f"--header {value!r} is not `Name: value`", field="--header")
        headers[name.strip().lower()] = content.strip()
    return headers


def _print_answer(response: httpx.Response) -> None:
    out = console()
    headers = {name.lower(): value for name, value in response.headers.items()}
    status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    if not response.content:
        out.print(f"{status}, no reply event")
        return
    is_event = "ce-id" in headers or headers.get("content-type", "").startswith(
        "application/cloudevents"
    )
    if not is_event:
        out.print(status)
        out.print(response.text[:4000], markup=False)
        return
    decoded = events.decode(headers, response.content)
    reply = decoded[0] if isinstance(decoded, list) else decoded
    out.print(f"{status}, reply event:")
    print_table(
        ["ATTRIBUTE", "VALUE"],
        ([name, events.canonical_string(value)] for name, value in reply.attributes.items()),
    )
    out.print(_data_text(reply), markup=False)


def _data_text(event: events.CloudEvent) -> str:
    if event.data is None:
        return "(no data)"
    if events.is_json_media_type(event.datacontenttype):
        try:
            return json.dumps(event.json(), indent=2, ensure_ascii=False)
        except InvalidInputError:
            pass
    return event.data.decode("utf-8", errors="replace")


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
