"""sources.knative.dev/v1 (PingSource, SinkBinding, ApiServerSource, ContainerSource): defaults
and webhook rules (reference §3.4–3.7; knative-kinds §6.1, §7)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bulut.manifests.schedules import next_fire

from .duck import check_destination
from .meta import validate_metadata
from .paths import fail, list_at, mapping_at

ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9]*$")
DEFAULT_SCHEDULE = "* * * * *"
REFERENCE_MODE = "Reference"
RESOURCE_MODE = "Resource"
DEFAULT_SERVICE_ACCOUNT = "default"
EXTENSION_NAME = re.compile(r"^[a-zA-Z0-9]+$")
GROUP_VERSION = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?v[0-9]+((alpha|beta)[0-9]+)?$")
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def validate_pingsource(resource: Mapping[str, Any]) -> None:
    """A PingSource: schedule, data xor dataBase64, JSON data, sink."""
    validate_metadata(resource, dns1035=False)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    schedule = spec.get("schedule", DEFAULT_SCHEDULE)
    _check_schedule(schedule, spec.get("timezone"))
    data, data64 = spec.get("data"), spec.get("dataBase64")
    if data is not None and data64 is not None:
        fail("expected exactly one, got both", "spec.data, spec.dataBase64")
    payload: str | None = data if isinstance(data, str) else None
    if data64 is not None:
        try:
            payload = base64.b64decode(str(data64), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            fail("invalid value: not valid base64", "spec.dataBase64")
    if payload is not None and spec.get("contentType") == "application/json":
        try:
            json.loads(payload)
        except json.JSONDecodeError as error:
            fail(f"invalid value: data is not valid JSON ({error.msg})", "spec.data")
    check_destination(spec.get("sink"), "spec.sink")
    _check_overrides(spec.get("ceOverrides"))


def _check_schedule(schedule: Any, timezone: Any) -> None:
    _check_schedule_form(schedule)
    if timezone is not None and not isinstance(timezone, str):
        fail("invalid value: expected a string", "spec.timezone")
    try:  # out-of-range values, zero steps, dates that never come, unknown zones
        next_fire(schedule, timezone or None, datetime.now(UTC))
    except ValueError as error:
        field, _, problem = str(error).partition(": ")
        fail(f"invalid value: {schedule}: {problem}", field)


def _check_schedule_form(schedule: Any) -> None:
    if not isinstance(schedule, str) or not schedule.strip():
        fail("missing field(s)", "spec.schedule")
    text = schedule.strip()
    if text.startswith("CRON_TZ=") or text.startswith("TZ="):
        text = text.split(" ", 1)[1] if " " in text else ""
    if text.startswith("@"):
        if text.startswith("@every") or text not in {
            "@yearly",
            "@annually",
            "@monthly",
            "@weekly",
            "@daily",
            "@midnight",
            "@hourly",
        }:
            fail(f"invalid value: {schedule}", "spec.schedule")
        return
    fields = text.split()
    if len(fields) not in (5, 6) or not all(re.match(r"^[\w*/,\-?LW#]+$", f) for f in fields):
        fail(f"invalid value: {schedule}: expected 5 fields (or 6 with seconds)", "spec.schedule")


def _check_overrides(value: Any) -> None:
    overrides = mapping_at(value, "spec.ceOverrides")
    for name in mapping_at(overrides.get("extensions"), "spec.ceOverrides.extensions"):
        if not ATTRIBUTE_NAME.match(str(name)):
            fail(f"invalid value: {name}", f"spec.ceOverrides.extensions.{name}")


def validate_sinkbinding(resource: Mapping[str, Any]) -> None:
    """A SinkBinding: subject (apiVersion, kind, name xor selector) and sink."""
    validate_metadata(resource, dns1035=False)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    subject = mapping_at(spec.get("subject"), "spec.subject", required=True)
    for key in ("apiVersion", "kind"):
        if not subject.get(key):
            fail("missing field(s)", f"spec.subject.{key}")
    if bool(subject.get("name")) == bool(subject.get("selector")):
        fail("expected exactly one of name or selector", "spec.subject")
    check_destination(spec.get("sink"), "spec.sink")
    _check_overrides(spec.get("ceOverrides"))


def default_pingsource(source: dict[str, Any]) -> dict[str, Any]:
    """A PingSource fires every minute unless it says otherwise."""
    source.setdefault("spec", {}).setdefault("schedule", DEFAULT_SCHEDULE)
    return source


def default_apiserversource(resource: dict[str, Any]) -> dict[str, Any]:
    """``mode: Reference`` and ``serviceAccountName: default`` when absent."""
    spec = resource.setdefault("spec", {})
    if not spec.get("mode"):
        spec["mode"] = REFERENCE_MODE
    if not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = DEFAULT_SERVICE_ACCOUNT
    return resource


def default_containersource(resource: dict[str, Any]) -> dict[str, Any]:
    """An unnamed container ``i`` is named ``<source>-<i>``."""
    name = str((resource.get("metadata") or {}).get("name") or "")
    template = (resource.setdefault("spec", {}).get("template") or {}).get("spec") or {}
    for index, container in enumerate(template.get("containers") or []):
        if isinstance(container, dict) and not container.get("name"):
            container["name"] = f"{name}-{index}"
    return resource


def check_overrides(value: Any, path: str) -> None:
    """``ceOverrides.extensions``: non-empty alphanumeric keys, string values."""
    overrides = mapping_at(value, path)
    extensions = mapping_at(overrides.get("extensions"), f"{path}.extensions")
    for key, item in extensions.items():
        if not key:
            fail('invalid key name "": keys MUST NOT be empty', f"{path}.extensions")
        if not EXTENSION_NAME.match(str(key)):
            fail(
                f'invalid key name "{key}": keys are expected to be alphanumeric',
                f"{path}.extensions.{key}",
            )
        if not isinstance(item, str):
            fail(f"expected a string, got {type(item).__name__}", f"{path}.extensions.{key}")


def check_label_selector(value: Any, path: str) -> None:
    """A metav1.LabelSelector: string ``matchLabels``, well-formed ``matchExpressions``."""
    selector = mapping_at(value, path)
    for key, item in mapping_at(selector.get("matchLabels"), f"{path}.matchLabels").items():
        if not isinstance(item, str):
            fail(f"expected a string, got {type(item).__name__}", f"{path}.matchLabels.{key}")
    for index, raw in enumerate(
        list_at(selector.get("matchExpressions"), f"{path}.matchExpressions")
    ):
        where = f"{path}.matchExpressions[{index}]"
        expression = mapping_at(raw, where)
        if not expression.get("key"):
            fail("missing field(s)", f"{where}.key")
        operator = expression.get("operator")
        if operator not in SELECTOR_OPERATORS:
            fail(f"invalid value: {operator}", f"{where}.operator")
        values = list_at(expression.get("values"), f"{where}.values")
        if operator in ("In", "NotIn") and not values:
            fail("must be specified when `operator` is 'In' or 'NotIn'", f"{where}.values")
        if operator in ("Exists", "DoesNotExist") and values:
            fail(
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                f"{where}.values",
            )


def _check_type_reference(value: Any, path: str) -> None:
    reference = mapping_at(value, path)
    api_version = reference.get("apiVersion")
    if not isinstance(api_version, str) or not GROUP_VERSION.match(api_version):
        fail(f"invalid value: {api_version}", f"{path}.apiVersion")
    kind = reference.get("kind")
    if not isinstance(kind, str) or not kind.strip():
        fail("missing field(s)", f"{path}.kind")


def validate_apiserversource(resource: Mapping[str, Any]) -> None:
    """An ApiServerSource: resources, owner, mode, selectors, sink, ceOverrides, no filters."""
    validate_metadata(resource, dns1035=False)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    mode = spec.get("mode", REFERENCE_MODE)
    if mode not in (REFERENCE_MODE, RESOURCE_MODE):
        fail(f"invalid value: {mode}", "spec.mode")
    resources = list_at(spec.get("resources"), "spec.resources")
    if not resources:
        fail("missing field(s)", "spec.resources")
    for index, item in enumerate(resources):
        where = f"spec.resources[{index}]"
        mapping_at(item, where, required=True)
        _check_type_reference(item, where)
        check_label_selector(item.get("selector"), f"{where}.selector")
    if spec.get("owner") is not None:
        _check_type_reference(spec["owner"], "spec.owner")
    if spec.get("namespaceSelector") is not None:
        check_label_selector(spec["namespaceSelector"], "spec.namespaceSelector")
    account = spec.get("serviceAccountName")
    if account is not None and not isinstance(account, str):
        fail("expected a string", "spec.serviceAccountName")
    if spec.get("filters"):
        fail(
            "disallowed field: the new-apiserversource-filters feature is disabled",
            "spec.filters",
        )
    check_destination(spec.get("sink"), "spec.sink")
    check_overrides(spec.get("ceOverrides"), "spec.ceOverrides")


def validate_containersource(resource: Mapping[str, Any]) -> None:
    """A ContainerSource: at least one container, each with an image (names are defaulted); sink."""
    validate_metadata(resource, dns1035=False)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    template = mapping_at(spec.get("template"), "spec.template", required=True)
    pod = mapping_at(template.get("spec"), "spec.template.spec", required=True)
    containers = list_at(pod.get("containers"), "spec.template.spec.containers")
    if not containers:
        fail("missing field(s)", "spec.template.spec.containers")
    for index, raw in enumerate(containers):
        where = f"spec.template.spec.containers[{index}]"
        container = mapping_at(raw, where, required=True)
        image = container.get("image")
        if not isinstance(image, str) or not image:
            fail("missing field(s)", f"{where}.image")
        for position, item in enumerate(list_at(container.get("env"), f"{where}.env")):
            entry = mapping_at(item, f"{where}.env[{position}]")
            if not entry.get("name"):
                fail("missing field(s)", f"{where}.env[{position}].name")
    check_destination(spec.get("sink"), "spec.sink")
    check_overrides(spec.get("ceOverrides"), "spec.ceOverrides")
