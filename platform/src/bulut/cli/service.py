"""`bulut service create|update|delete|list|describe`, modelled on `kn service`.

A Service's container maps to a local function folder: `--function PATH` writes the
`bulut.dev/function-path` annotation (the image defaults to the func.yaml name), or
`--image NAME` lets the catalog find the function whose func.yaml has that name.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from bulut.controlplane.retry import retry_on_conflict
from bulut.errors import InvalidInputError
from bulut.settings import Settings

from .output import OutputFormat, console, print_document
from .resources import ControlPlaneClient, collection, describe, print_listing

FUNCTION_PATH = "bulut.dev/function-path"
SCALE = "autoscaling.knative.dev/"

Namespace = Annotated[str | None, typer.Option("-n", "--namespace", help="Namespace.")]
Function = Annotated[Path | None, typer.Option("--function", help="Local function folder.")]
Image = Annotated[str | None, typer.Option("--image", help="Image (matched to a function).")]
Env = Annotated[list[str], typer.Option("--env", "-e", help="NAME=value (NAME- removes).")]
ScaleMin = Annotated[int | None, typer.Option("--scale-min", help="min-scale annotation.")]
ScaleMax = Annotated[int | None, typer.Option("--scale-max", help="max-scale annotation.")]
Concurrency = Annotated[
    int | None, typer.Option("--concurrency-limit", help="containerConcurrency (hard limit).")
]
Traffic = Annotated[
    list[str], typer.Option("--traffic", help="REVISION|TAG|@latest=PERCENT (repeatable).")
]
Tag = Annotated[list[str], typer.Option("--tag", help="REVISION|@latest=TAG (repeatable).")]
Annotation = Annotated[list[str], typer.Option("--annotation", "-a", help="KEY=value.")]


def pairs(values: list[str], flag: str) -> list[tuple[str, str]]:
    """``KEY=VALUE`` items of a repeatable flag."""
    result = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"{flag} {value!r}: expected KEY=VALUE", field=flag)
        result.append((key, rest))
    return result


def function_image(path: Path) -> str:
    """The func.yaml ``name`` of a function folder (the folder name if there is none)."""
    func_yaml = path / "func.yaml"
    if func_yaml.is_file():
        data = yaml.safe_load(func_yaml.read_text(encoding="utf-8")) or {}
        if isinstance(data, dict) and data.get("name"):
            return str(data["name"])
    return path.resolve().name


def set_env(container: dict[str, Any], values: list[str]) -> None:
    """Add, replace (``NAME=value``) or remove (``NAME-``) environment variables."""
    env: list[dict[str, Any]] = list(container.get("env") or [])
    for value in values:
        if value.endswith("-") and "=" not in value:
            env = [e for e in env if e.get("name") != value[:-1]]
            continue
        name, _, text = value.partition("=")
        if not name or "=" not in value:
            raise InvalidInputError(f"--env {value!r}: expected NAME=value", field="--env")
        env = [e for e in env if e.get("name") != name] + [{"name": name, "value": text}]
    if env:
        container["env"] = env
    else:
        container.pop("env", None)


def traffic_block(traffic: list[str], tags: list[str]) -> list[dict[str, Any]] | None:
    """kn's --traffic/--tag: targets by revision, tag or @latest, percents as given."""
    if not traffic and not tags:
        return None
    tag_of = dict(pairs(tags, "--tag"))  # revision -> tag
    revision_of = {tag: rev for rev, tag in tag_of.items()}
    targets: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name, percent in pairs(traffic, "--traffic"):
        if not percent.isdigit():
            raise InvalidInputError(f"--traffic {name}={percent}: percent must be an integer")
        revision = revision_of.get(name, name)
        targets.append(_target(revision, int(percent), tag_of.get(revision)))
        seen.add(revision)
    for revision, tag in tag_of.items():
        if revision not in seen:
            targets.append(_target(revision, 0, tag))
    return targets


def _target(revision: str, percent: int, tag: str | None) -> dict[str, Any]:
    target: dict[str, Any] = (
        {"latestRevision": True} if revision == "@latest" else {"revisionName": revision}
    )
    target["percent"] = percent
    if tag:
        target["tag"] = tag
    return target


@dataclass(frozen=True)
class ServiceFlags:
    """kn-style flags of `service create|update`."""

    function: Path | None = None
    image: str | None = None
    env: list[str] = field(default_factory=list)
    scale_min: int | None = None
    scale_max: int | None = None
    concurrency: int | None = None
    traffic: list[str] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    annotation: list[str] = field(default_factory=list)


def update_service(service: dict[str, Any], flags: ServiceFlags) -> dict[str, Any]:
    """The Service with the flags applied (pure)."""
    result = copy.deepcopy(service)
    template = result.setdefault("spec", {}).setdefault("template", {})
    tmeta = template.setdefault("metadata", {})
    annotations = dict(tmeta.get("annotations") or {})
    containers = template.setdefault("spec", {}).setdefault("containers", [{}])
    container = containers[0]
    if flags.function is not None:
        annotations[FUNCTION_PATH] = str(flags.function)
        container["image"] = flags.image or function_image(flags.function)
    elif flags.image:
        container["image"] = flags.image
    set_env(container, flags.env)
    for value, key in ((flags.scale_min, "min-scale"), (flags.scale_max, "max-scale")):
        if value is not None:
            annotations[SCALE + key] = str(value)
    annotations.update(pairs(flags.annotation, "--annotation"))
    if annotations:
        tmeta["annotations"] = annotations
    if flags.concurrency is not None:
        template["spec"]["containerConcurrency"] = flags.concurrency
    traffic = traffic_block(flags.traffic, flags.tag)
    if traffic is not None:
        result["spec"]["traffic"] = traffic
    return result


def new_service(name: str, namespace: str) -> dict[str, Any]:
    """An empty Knative Service."""
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"spec": {"containers": [{}]}}},
    }


def register(app: typer.Typer) -> None:
    """Attach `bulut service ...`."""
    service_app = typer.Typer(help="Knative Services (kn service).", no_args_is_help=True)
    app.add_typer(service_app, name="service")

    @service_app.command()
    def create(
        name: str,
        function: Function = None,
        image: Image = None,
        env: Env = [],  # noqa: B006
        scale_min: ScaleMin = None,
        scale_max: ScaleMax = None,
        concurrency_limit: Concurrency = None,
        traffic: Traffic = [],  # noqa: B006
        tag: Tag = [],  # noqa: B006
        annotation: Annotation = [],  # noqa: B006
        namespace: Namespace = None,
    ) -> None:
        """Create a Service from a local function (--function) or an image (--image)."""
        if function is None and image is None:
            raise InvalidInputError("give --function PATH or --image NAME", field="--image")
        client = ControlPlaneClient(Settings())
        ns = client.namespace(namespace)
        flags = ServiceFlags(
            function, image, env, scale_min, scale_max, concurrency_limit, traffic, tag, annotation
        )
        document = update_service(new_service(name, ns), flags)
        client.request("POST", collection("ksvc", ns), json=document)
        console().print(f"Service '{name}' created in namespace '{ns}'.")

    @service_app.command()
    def update(
        name: str,
        function: Function = None,
        image: Image = None,
        env: Env = [],  # noqa: B006
        scale_min: ScaleMin = None,
        scale_max: ScaleMax = None,
        concurrency_limit: Concurrency = None,
        traffic: Traffic = [],  # noqa: B006
        tag: Tag = [],  # noqa: B006
        annotation: Annotation = [],  # noqa: B006
        namespace: Namespace = None,
    ) -> None:
        """Update a Service: a new revision when the template changes, else traffic only."""
        client = ControlPlaneClient(Settings())
        path = f"{collection('ksvc', client.namespace(namespace))}/{name}"
        flags = ServiceFlags(
            function, image, env, scale_min, scale_max, concurrency_limit, traffic, tag, annotation
        )

        def attempt() -> Any:  # read again and re-apply the change: kn's conflict retry
            return client.request(
                "PUT", path, json=update_service(client.request("GET", path), flags)
            )

        retry_on_conflict(attempt)
        console().print(f"Service '{name}' updated.")

    @service_app.command("list")
    def list_services(
        namespace: Namespace = None,
        output: Annotated[OutputFormat, typer.Option("-o", "--output")] = OutputFormat.table,
    ) -> None:
        """List Services."""
        client = ControlPlaneClient(Settings())
        print_listing(client, "ksvc", client.namespace(namespace), output)

    @service_app.command("describe")
    def describe_service(
        name: str,
        namespace: Namespace = None,
        output: Annotated[OutputFormat, typer.Option("-o", "--output")] = OutputFormat.table,
    ) -> None:
        """Show a Service: URL, revisions, traffic and conditions."""
        client = ControlPlaneClient(Settings())
        resource = client.request(
            "GET", f"{collection('ksvc', client.namespace(namespace))}/{name}"
        )
        if output is OutputFormat.table:
            describe(resource)
        else:
            print_document(resource, output)

    @service_app.command()
    def delete(name: str, namespace: Namespace = None) -> None:
        """Delete a Service with its Configuration, Route and Revisions."""
        client = ControlPlaneClient(Settings())
        client.request("DELETE", f"{collection('ksvc', client.namespace(namespace))}/{name}")
        console().print(
            f"Service '{name}' successfully deleted in namespace '{client.namespace(namespace)}'."
        )
