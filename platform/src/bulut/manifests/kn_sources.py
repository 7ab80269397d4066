"""ApiServerSources, ContainerSources, DomainMappings and JobSinks from kn-style flags, and kn's
list rows (pure): what `bulut source apiserver|container`, `bulut domain` and `bulut jobsink`
send and print.

- ``--resource Kind:APIVersion[:key=value,...]`` (repeatable), ``--mode Reference|Resource``,
  ``--service-account NAME``, ``--ce-override key=value`` (``key-`` removes one on update);
- ``--image IMAGE`` or ``--function PATH`` (a local function folder: the image is its func.yaml
  name and the pod template's ``bulut.dev/function-path`` annotation points at it), ``--env``,
  ``--arg``;
- ``--ref ksvc:NAME|kroute:NAME|NAME`` and ``--tls SECRET`` for a DomainMapping;
- sinks in :mod:`bulut.manifests.kn_messaging`'s syntax (``jobsink:NAME`` included).

The list rows are kn's columns (``kn source apiserver list``: Name, Resources, Sink, Age,
Conditions, Ready, Reason; ``kn source container list``: Name, Image, Sink, Age, Conditions,
Ready, Reason; ``kn domain list``: Name, URL, Ready, Ksvc); kn has no JobSink command, so
``bulut jobsink list`` prints Name, URL, Age, Conditions, Ready, Reason. Errors name the flag.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bulut.errors import InvalidInputError

from .kn import FUNCTION_PATH, function_image, pairs, set_env
from .kn_messaging import age, destination_text, ready_of, sink

SOURCES = "sources.knative.dev/v1"
DOMAINS = "serving.knative.dev/v1beta1"
SINKS = "sinks.knative.dev/v1alpha1"
MODES = ("Reference", "Resource")
REFERENCE_KINDS = {
    "ksvc": ("serving.knative.dev/v1", "Service"),
    "kroute": ("serving.knative.dev/v1", "Route"),
}
APISERVER_COLUMNS = ("NAME", "RESOURCES", "SINK", "AGE", "CONDITIONS", "READY", "REASON")
CONTAINER_COLUMNS = ("NAME", "IMAGE", "SINK", "AGE", "CONDITIONS", "READY", "REASON")
DOMAIN_COLUMNS = ("NAME", "URL", "READY", "KSVC")
JOBSINK_COLUMNS = ("NAME", "URL", "AGE", "CONDITIONS", "READY", "REASON")


# -- ApiServerSource


def resource_selector(value: str) -> dict[str, Any]:
    """``--resource Kind:APIVersion[:key=value,...]`` as an APIVersionKindSelector."""
    parts = value.split(":", 2)
    expected = "expected Kind:APIVersion[:key=value,...], e.g. Event:v1"
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise InvalidInputError(f"--resource {value!r}: {expected}", field="--resource")
    selector: dict[str, Any] = {"apiVersion": parts[1], "kind": parts[0]}
    if len(parts) == 3 and parts[2]:
        labels = {}
        for item in parts[2].split(","):
            key, sep, text = item.partition("=")
            if not sep or not key:
                raise InvalidInputError(f"--resource {value!r}: {expected}", field="--resource")
            labels[key] = text
        selector["selector"] = {"matchLabels": labels}
    return selector


def resource_text(selector: Mapping[str, Any]) -> str:
    """kn's ``Kind:APIVersion[:key=value,...]`` of one selector (match labels only)."""
    labels = ((selector.get("selector") or {}).get("matchLabels")) or {}
    text = f"{selector.get('kind')}:{selector.get('apiVersion')}"
    if labels:
        text += ":" + ",".join(f"{k}={labels[k]}" for k in sorted(labels))
    return text


def ce_overrides(
    values: Sequence[str], current: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """``--ce-override key=value`` added to ``current``'s extensions, ``key-`` removed; None
    when no extension is left."""
    extensions = dict(((current or {}).get("extensions")) or {})
    for value in values:
        if value.endswith("-") and "=" not in value:
            extensions.pop(value[:-1], None)
            continue
        key, text = pairs([value], "--ce-override")[0]
        extensions[key] = text
    return {"extensions": extensions} if extensions else None


@dataclass(frozen=True)
class ApiServerFlags:
    """``kn source apiserver create|update`` flags (None or empty: unchanged on update)."""

    resources: Sequence[str] = ()
    mode: str | None = None
    service_account: str | None = None
    sink: str | None = None
    ce_overrides: Sequence[str] = ()


def apiserver_spec(
    flags: ApiServerFlags, current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The spec ``current`` (None: a new source) has with the flags applied."""
    spec: dict[str, Any] = copy.deepcopy(dict(current or {}))
    if current is None:
        if not flags.resources:
            raise InvalidInputError(
                "--resource: give at least one, e.g. Event:v1", field="--resource"
            )
        if not flags.sink:
            raise InvalidInputError("--sink: where the events go, e.g. ksvc:audit", field="--sink")
    if flags.resources:
        spec["resources"] = [resource_selector(value) for value in flags.resources]
    if flags.mode is not None:
        if flags.mode not in MODES:
            raise InvalidInputError(
                f"--mode {flags.mode!r}: expected Reference or Resource", field="--mode"
            )
        spec["mode"] = flags.mode
    elif current is None:
        spec["mode"] = "Reference"
    if flags.service_account is not None:
        spec["serviceAccountName"] = flags.service_account
    if flags.sink is not None:
        spec["sink"] = sink(flags.sink)
    _set_overrides(spec, flags.ce_overrides)
    return spec


def _set_overrides(spec: dict[str, Any], values: Sequence[str]) -> None:
    if not values:
        return
    overrides = ce_overrides(values, spec.get("ceOverrides"))
    if overrides is None:
        spec.pop("ceOverrides", None)
    else:
        spec["ceOverrides"] = overrides


# -- ContainerSource and JobSink: one container from --image or --function


@dataclass(frozen=True)
class ContainerFlags:
    """``--image``/``--function``, ``--env``, ``--arg`` (None or empty: unchanged on update)."""

    image: str | None = None
    function: Path | None = None
    env: Sequence[str] = ()
    args: Sequence[str] = ()


def _pod_template(
    template: dict[str, Any], flags: ContainerFlags, name: str, creating: bool
) -> dict[str, Any]:
    """The pod template with the container flags applied."""
    if flags.image and flags.function is not None:
        raise InvalidInputError("give --image or --function, not both", field="--image")
    if creating and not flags.image and flags.function is None:
        raise InvalidInputError(
            "--image: give an image, or --function PATH for a local function folder",
            field="--image",
        )
    pod = template.setdefault("spec", {})
    containers = pod.setdefault("containers", [{}])
    container = containers[0]
    container.setdefault("name", name)
    if flags.function is not None:
        if not flags.function.is_dir():
            raise InvalidInputError(
                f"--function {flags.function}: not a folder", field="--function"
            )
        annotations = template.setdefault("metadata", {}).setdefault("annotations", {})
        annotations[FUNCTION_PATH] = str(flags.function)
        container["image"] = function_image(flags.function)
    elif flags.image:
        container["image"] = flags.image
    set_env(container, list(flags.env))
    if flags.args:
        container["args"] = list(flags.args)
    return template


def container_spec(
    name: str,
    flags: ContainerFlags,
    sink_value: str | None,
    overrides: Sequence[str] = (),
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ContainerSource spec (``current``: the stored one, updated)."""
    spec: dict[str, Any] = copy.deepcopy(dict(current or {}))
    if current is None and not sink_value:
        raise InvalidInputError("--sink: where the events go, e.g. broker:default", field="--sink")
    _pod_template(spec.setdefault("template", {}), flags, name, current is None)
    if sink_value is not None:
        spec["sink"] = sink(sink_value)
    _set_overrides(spec, overrides)
    return spec


def jobsink_spec(
    name: str,
    flags: ContainerFlags,
    backoff_limit: int | None = None,
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A JobSink spec: a batch/v1 Job whose pod never restarts in place (``restartPolicy:
    Never``), the event mounted by the platform."""
    spec: dict[str, Any] = copy.deepcopy(dict(current or {}))
    job = spec.setdefault("job", {}).setdefault("spec", {})
    template = _pod_template(job.setdefault("template", {}), flags, name, current is None)
    template["spec"].setdefault("restartPolicy", "Never")
    if backoff_limit is not None:
        if backoff_limit < 0:
            raise InvalidInputError("--backoff-limit: 0 or more", field="--backoff-limit")
        job["backoffLimit"] = backoff_limit
    return spec


# -- DomainMapping


def domain_reference(value: str) -> dict[str, str]:
    """``--ref ksvc:NAME``, ``kroute:NAME`` or ``NAME`` (a Knative Service)."""
    prefix, sep, name = value.partition(":")
    if not sep:
        prefix, name = "ksvc", value
    if prefix not in REFERENCE_KINDS or not name or ":" in name:
        raise InvalidInputError(
            f"--ref {value!r}: expected ksvc:NAME, kroute:NAME or NAME", field="--ref"
        )
    api_version, kind = REFERENCE_KINDS[prefix]
    return {"apiVersion": api_version, "kind": kind, "name": name}


def domain_spec(
    ref: str | None, tls: str | None, current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A DomainMapping spec: ``--ref`` (required on create), ``--tls SECRET``."""
    spec: dict[str, Any] = copy.deepcopy(dict(current or {}))
    if ref is None and current is None:
        raise InvalidInputError(
            "--ref: the Service the domain maps to, e.g. ksvc:storefront", field="--ref"
        )
    if ref is not None:
        spec["ref"] = domain_reference(ref)
    if tls is not None:
        if tls:
            spec["tls"] = {"secretName": tls}
        else:
            spec.pop("tls", None)
    return spec


# -- kn's list rows


def _conditions(obj: Mapping[str, Any]) -> str:
    conditions = (obj.get("status") or {}).get("conditions") or []
    ok = sum(1 for c in conditions if c.get("status") == "True")
    return f"{ok} OK / {len(conditions)}"


def _tail(obj: Mapping[str, Any], now: datetime | None) -> list[str]:
    ready, reason = ready_of(obj)
    created = obj["metadata"].get("creationTimestamp")
    return [age(created, now), _conditions(obj), ready, reason]


def apiserver_row(source: Mapping[str, Any], now: datetime | None = None) -> list[str]:
    """``kn source apiserver list``: Name, Resources, Sink, Age, Conditions, Ready, Reason."""
    spec = source.get("spec") or {}
    resources = ",".join(resource_text(r) for r in spec.get("resources") or ())
    sink_text = destination_text(spec.get("sink"))
    return [source["metadata"]["name"], resources, sink_text, *_tail(source, now)]


def container_row(source: Mapping[str, Any], now: datetime | None = None) -> list[str]:
    """``kn source container list``: Name, Image, Sink, Age, Conditions, Ready, Reason."""
    spec = source.get("spec") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or [{}]
    image = str(containers[0].get("image") or "")
    sink_text = destination_text(spec.get("sink"))
    return [source["metadata"]["name"], image, sink_text, *_tail(source, now)]


def domain_row(mapping: Mapping[str, Any]) -> list[str]:
    """``kn domain list``: Name, URL, Ready, Ksvc."""
    ref = (mapping.get("spec") or {}).get("ref") or {}
    url = str((mapping.get("status") or {}).get("url") or "")
    ready, _ = ready_of(mapping)
    return [mapping["metadata"]["name"], url, ready, str(ref.get("name") or "")]


def jobsink_row(jobsink: Mapping[str, Any], now: datetime | None = None) -> list[str]:
    """Name, URL, Age, Conditions, Ready, Reason."""
    address = (jobsink.get("status") or {}).get("address") or {}
    return [jobsink["metadata"]["name"], str(address.get("url") or ""), *_tail(jobsink, now)]
