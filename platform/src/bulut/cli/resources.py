"""`bulut apply|get|describe|delete`: kubectl-style resource commands over the control plane.

The commands are thin: load YAML, call the control plane's REST API with httpx, print.
Tables come from the server (`as=Table`, the CRDs' printer columns), so `bulut get` and
`kubectl get` show the same columns. Errors arrive as Kubernetes ``Status`` objects (or
problem+json from Bulut's own routes) and print as one line naming the field.
"""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from bulut.controlplane.kinds import KindInfo, for_document, lookup
from bulut.errors import (
    BulutError,
    ConflictError,
    InvalidInputError,
    InvalidResourceError,
    NotFoundError,
)
from bulut.manifests.loading import LoadedDocument, kustomize_build, load_documents
from bulut.settings import Settings

from .invocation import setting, settings_of
from .output import OutputFormat, console, print_document, print_table

TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io, application/json"
Namespace = Annotated[str | None, setting("namespace", "-n", "--namespace", help="Namespace.")]
Output = Annotated[OutputFormat, typer.Option("-o", "--output", help="table, yaml or json.")]
_DOCUMENT_FIELD = re.compile(r"^documents\[(\d+)\]\.?(.*)$")


class ControlPlaneClient:
    """JSON over HTTP to the control plane; Status and problem+json answers become BulutErrors."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.base_url = settings.control_url
        # Off loopback the control plane wants its bearer token, over TLS with its own CA.
        folder = settings.state_dir / "controlplane"
        token, ca = folder / "token", folder / "ca.crt"
        self.headers = (
            {"Authorization": f"Bearer {token.read_text().strip()}"} if token.is_file() else {}
        )
        self.verify: bool | ssl.SSLContext = (
            ssl.create_default_context(cafile=str(ca)) if ca.is_file() else True
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request; the decoded JSON answer."""
        try:
            with httpx.Client(
                base_url=self.base_url, timeout=30, headers=self.headers, verify=self.verify
            ) as client:
                response = client.request(method, path, **kwargs)
        except httpx.TransportError:
            raise BulutError(
                f"control plane not reachable at {self.base_url}: start it with `bulut up`"
            ) from None
        if response.status_code >= 400:
            raise error_from(response)
        return response.json()

    @property
    def namespace(self) -> str:
        """The namespace commands use (``-n``, else ``BULUT_NAMESPACE``, else default)."""
        return self.settings.namespace


def error_from(response: httpx.Response) -> BulutError:
    """The BulutError a ``Status`` (Kubernetes API) or problem+json (Bulut routes) describes."""
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text}
    if not isinstance(body, dict):
        body = {"detail": response.text}
    if body.get("kind") == "Status":
        causes = (body.get("details") or {}).get("causes") or [{}]
        detail, field = str(body.get("message", response.reason_phrase)), causes[0].get("field")
    else:
        detail, field = str(body.get("detail", response.reason_phrase)), body.get("field")
    by_status: dict[int, type[BulutError]] = {
        404: NotFoundError,
        409: ConflictError,
        422: InvalidResourceError,
        400: InvalidInputError,
    }
    return by_status.get(response.status_code, BulutError)(detail, field=field)


def resolve_kind(name: str) -> KindInfo:
    """The stored kind a user typed (Kind, plural, alias such as ksvc)."""
    try:
        return lookup(name)
    except NotFoundError:
        known = "ksvc, revisions, routes, configurations, brokers, triggers, pingsources, ..."
        raise InvalidInputError(f"unknown resource type {name!r} (try: {known})") from None


def collection(kind: str, namespace: str | None) -> str:
    """REST path of a collection (all namespaces when None)."""
    return resolve_kind(kind).collection_path(namespace)


def print_listing(
    client: ControlPlaneClient,
    kind: str,
    namespace: str | None,
    fmt: OutputFormat,
    name: str | None = None,
) -> None:
    """Print a collection (or one item of it) as a server-side table, YAML or JSON."""
    path = collection(kind, namespace)
    if fmt is OutputFormat.table:
        table = client.request("GET", path, headers={"Accept": TABLE_ACCEPT})
        shown = [i for i, c in enumerate(table["columnDefinitions"]) if not c.get("priority")]
        columns = [str(table["columnDefinitions"][i]["name"]).upper() for i in shown]
        rows = [
            [_cell(row["cells"][i]) for i in shown]
            for row in table["rows"]
            if name is None or row["object"]["metadata"]["name"] == name
        ]
        if namespace is None:
            columns.insert(0, "NAMESPACE")
            namespaces = [
                row["object"]["metadata"].get("namespace", "")
                for row in table["rows"]
                if name is None or row["object"]["metadata"]["name"] == name
            ]
            rows = [[ns, *cells] for ns, cells in zip(namespaces, rows, strict=True)]
        if name is not None and not rows:
            raise NotFoundError(f'{resolve_kind(kind).kind.lower()} "{name}" not found')
        if not rows:
            console().print(f"No {resolve_kind(kind).plural} found.")
            return
        print_table(columns, rows)
        return
    print_document(client.request("GET", path), fmt)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def show(client: ControlPlaneClient, kind: str, name: str, fmt: OutputFormat) -> None:
    """Print one resource: described (table), or as YAML or JSON."""
    found = client.request("GET", f"{collection(kind, client.namespace)}/{name}")
    if fmt is OutputFormat.table:
        describe(found)
    else:
        print_document(found, fmt)


def describe(resource: dict[str, Any]) -> None:
    """kn-style description: identity, addresses, then the conditions."""
    meta, status = resource["metadata"], resource.get("status") or {}
    lines = [
        ("Name", meta["name"]),
        ("Namespace", meta.get("namespace", "")),
        ("Kind", f"{resource['kind']} ({resource['apiVersion']})"),
        ("URL", status.get("url") or (status.get("address") or {}).get("url")),
        ("Latest", status.get("latestCreatedRevisionName")),
        ("Ready revision", status.get("latestReadyRevisionName")),
        ("Subscriber", status.get("subscriberUri")),
        ("Sink", status.get("sinkUri")),
        ("Dead letter", status.get("deadLetterSinkUri")),
        ("Replicas", _replicas(status)),
        ("Restarts", _restarts(status)),
        ("Generation", meta.get("generation")),
        ("Created", meta.get("creationTimestamp")),
    ]
    for label, value in lines:
        if value not in (None, ""):
            console().print(f"{label + ':':<16}{value}")
    for target in status.get("traffic") or []:
        tag = f" #{target['tag']}" if target.get("tag") else ""
        latest = " (latest)" if target.get("latestRevision") else ""
        percent = f"{target.get('percent', 0):>3}%"
        console().print(f"{'Traffic:':<16}{percent}  {target.get('revisionName')}{latest}{tag}")
    conditions = status.get("conditions") or []
    if conditions:
        console().print("")
        rows = [(_ok(c), c["type"], c.get("reason", ""), c.get("message", "")) for c in conditions]
        print_table(["OK", "TYPE", "REASON", "MESSAGE"], rows, title=None)


def _replicas(status: dict[str, Any]) -> str | None:
    if "desiredReplicas" not in status and "actualReplicas" not in status:
        return None
    return (
        f"{status.get('actualReplicas', '-')} actual / {status.get('desiredReplicas', '-')} desired"
    )


def _restarts(status: dict[str, Any]) -> str | None:
    """A revision's instance restarts, and its CrashLoopBackOff while it waits."""
    runtime = status.get("bulut") or {}
    if not runtime.get("restarts"):
        return None
    loop = runtime.get("crashLoop") or {}
    waiting = f" ({loop['reason']}, back-off {loop['backOffSeconds']:g}s)" if loop else ""
    return f"{runtime['restarts']}{waiting}"


def _ok(condition: dict[str, Any]) -> str:
    return {"True": "++", "False": "!!"}.get(str(condition.get("status")), "??")


def load_sources(files: list[Path], kustomization: Path | None) -> list[LoadedDocument]:
    """Documents from every -f source, or from one kustomization."""
    if kustomization is not None:
        return kustomize_build(kustomization)
    if not files:
        raise InvalidInputError("give -f FILE|DIR|- or -k KUSTOMIZE_DIR", field="-f")
    return [doc for source in files for doc in load_documents(source)]


def apply_documents(
    client: ControlPlaneClient, loaded: list[LoadedDocument], dry_run: bool
) -> list[dict[str, Any]]:
    """POST the documents to the atomic apply endpoint; errors name file and document."""
    body = {
        "documents": [d.document for d in loaded],
        "namespace": client.namespace,
        "dry_run": dry_run,
    }
    try:
        answer = client.request("POST", "/apis/bulut.dev/v1/apply", json=body)
    except InvalidInputError as error:
        raise locate(error, loaded) from None
    results: list[dict[str, Any]] = answer["results"]
    return results


def locate(error: InvalidInputError, loaded: list[LoadedDocument]) -> InvalidInputError:
    """Rewrite ``documents[i].path`` errors as ``file: document n: path: message``."""
    match = _DOCUMENT_FIELD.match(error.field or "")
    if match is None or int(match.group(1)) >= len(loaded):
        return error
    source = loaded[int(match.group(1))]
    message = re.sub(r"^document \d+ ", "", error.message)
    where = f"{source.file}: document {source.index}"
    return type(error)(f"{where} {message} (nothing was applied)", field=match.group(2))


def apply(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Option("-f", "--filename", help="FILE, DIR or -.")] = [],  # noqa: B006
    kustomize: Annotated[
        Path | None, typer.Option("-k", "--kustomize", help="Kustomization dir.")
    ] = None,
    namespace: Namespace = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only.")] = False,
) -> None:
    """Create or update resources from YAML (atomic: all documents are validated first)."""
    client = ControlPlaneClient(settings_of(ctx))
    loaded = load_sources(files, kustomize)
    for result in apply_documents(client, loaded, dry_run):
        suffix = " (dry run)" if dry_run else ""
        name = _qualified(result)
        action = result["note"] if result["action"] == "ignored" else result["action"]
        console().print(f"{name} {action}{suffix}")


def get(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(metavar="TYPE", help="ksvc, revisions, routes, ...")],
    name: Annotated[str | None, typer.Argument(help="One resource by name.")] = None,
    namespace: Namespace = None,
    all_namespaces: Annotated[bool, typer.Option("-A", "--all-namespaces")] = False,
    output: Output = OutputFormat.table,
) -> None:
    """List resources, or show one (tables as kubectl prints them)."""
    client = ControlPlaneClient(settings_of(ctx))
    ns = None if all_namespaces else client.namespace
    if name is None or output is OutputFormat.table:
        print_listing(client, kind, ns, output, name)
        return
    print_document(client.request("GET", f"{collection(kind, client.namespace)}/{name}"), output)


def describe_resource(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(metavar="TYPE")],
    name: Annotated[str, typer.Argument()],
    namespace: Namespace = None,
) -> None:
    """Show one resource: addresses, traffic, replicas and conditions."""
    client = ControlPlaneClient(settings_of(ctx))
    describe(client.request("GET", f"{collection(kind, client.namespace)}/{name}"))


def delete(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Argument(metavar="TYPE")] = None,
    names: Annotated[list[str] | None, typer.Argument(metavar="NAME...")] = None,
    files: Annotated[list[Path], typer.Option("-f", "--filename")] = [],  # noqa: B006
    namespace: Namespace = None,
) -> None:
    """Delete resources by TYPE NAME..., or every stored resource in -f files."""
    client = ControlPlaneClient(settings_of(ctx))
    for path, label in _delete_targets(client, kind, names or [], files):
        client.request("DELETE", path)
        console().print(f"{label} deleted")


def _delete_targets(
    client: ControlPlaneClient, kind: str | None, names: list[str], files: list[Path]
) -> list[tuple[str, str]]:
    if files:
        targets = []
        for doc in load_sources(files, None):
            meta = doc.document.get("metadata") or {}
            info = stored_kind(doc.document)
            if info is not None:
                path = info.collection_path(meta.get("namespace") or client.namespace)
                targets.append(
                    (f"{path}/{meta.get('name')}", f'{info.kind.lower()} "{meta.get("name")}"')
                )
        return targets
    if kind is None or not names:
        raise InvalidInputError("give TYPE NAME... or -f FILE", field="NAME")
    kind_name = resolve_kind(kind).kind
    ns = client.namespace
    return [(f"{collection(kind, ns)}/{n}", f'{kind_name.lower()} "{n}"') for n in names]


def stored_kind(document: dict[str, Any]) -> KindInfo | None:
    """The stored kind of a document; None for cluster-only, unknown or mis-versioned ones."""
    try:
        return for_document(str(document.get("apiVersion")), str(document.get("kind")))
    except InvalidResourceError:
        return None


def _qualified(result: dict[str, Any]) -> str:
    api_version = str(result.get("api_version", ""))
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    singular = str(result["kind"]).lower()
    return f"{singular}.{group}/{result['name']}" if group else f"{singular}/{result['name']}"
