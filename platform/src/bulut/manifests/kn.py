"""Knative resources from kn-style flags (pure): what `bulut service`, `broker`, `trigger`
and `source ping` send to the control plane.

``--sink ksvc:NAME``, ``--env NAME=value``, ``--traffic REV=PERCENT``, ``--tag REV=TAG``,
``--filter attr=value``... become the documents ``kn`` would create. Errors name the flag.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bulut.errors import InvalidInputError

FUNCTION_PATH = "bulut.dev/function-path"
SCALE = "autoscaling.knative.dev/"


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


_SINK_KINDS = {
    "ksvc": ("serving.knative.dev/v1", "Service"),
    "broker": ("eventing.knative.dev/v1", "Broker"),
    "route": ("serving.knative.dev/v1", "Route"),
    "jobsink": ("sinks.knative.dev/v1alpha1", "JobSink"),
}


def destination(sink: str) -> dict[str, Any]:
    """A Destination from kn's sink syntax: ``ksvc:NAME``, ``broker:NAME``, ``jobsink:NAME``
    or a URI."""
    if "://" in sink:
        return {"uri": sink}
    prefix, sep, name = sink.partition(":")
    if not sep:
        prefix, name = "ksvc", sink
    if prefix not in _SINK_KINDS or not name:
        raise InvalidInputError(
            f"--sink {sink!r}: expected ksvc:NAME, broker:NAME, jobsink:NAME or a URL",
            field="--sink",
        )
    api_version, kind = _SINK_KINDS[prefix]
    return {"ref": {"apiVersion": api_version, "kind": kind, "name": name}}


def resource(api_version: str, kind: str, name: str, namespace: str, spec: Any) -> dict[str, Any]:
    """A resource document."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def broker_spec(dead_letter_sink: str | None) -> dict[str, Any]:
    """A Broker spec; without a delivery the control plane fills Knative's default."""
    return (
        {"delivery": {"deadLetterSink": destination(dead_letter_sink)}} if dead_letter_sink else {}
    )


def trigger_spec(broker: str, filters: list[str], sink: str) -> dict[str, Any]:
    """A Trigger spec with exact attribute filters."""
    spec: dict[str, Any] = {"broker": broker, "subscriber": destination(sink)}
    if filters:
        spec["filter"] = {"attributes": dict(pairs(filters, "--filter"))}
    return spec


def ping_spec(schedule: str, data: str | None, sink: str) -> dict[str, Any]:
    """A PingSource spec."""
    spec: dict[str, Any] = {"schedule": schedule, "sink": destination(sink)}
    if data is not None:
        spec["data"] = data
    return spec
