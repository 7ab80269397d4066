"""sources.knative.dev/v1 (PingSource, SinkBinding): defaults and webhook rules (§3.4–3.7)."""

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
from .paths import fail, mapping_at

ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9]*$")
DEFAULT_SCHEDULE = "* * * * *"


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
