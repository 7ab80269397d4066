"""eventing.knative.dev/v1 and sources.knative.dev/v1 webhook rules (§3.1–3.7)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bulut.errors import InvalidValueError
from bulut.events.filters import compile_trigger_filter
from bulut.manifests.durations import iso8601_seconds
from bulut.manifests.schedules import next_fire

from .common import check_destination, fail, mapping_at, validate_metadata

ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9]*$")


def _seconds(raw: Any) -> float | None:
    """Seconds in an ISO-8601 duration string; None for anything else."""
    if not isinstance(raw, str):
        return None
    try:
        return iso8601_seconds(raw)
    except InvalidValueError:
        return None


def validate_delivery(value: Any, path: str) -> None:
    """A DeliverySpec: retry >= 0, backoffPolicy, ISO-8601 durations, dead-letter sink."""
    if value is None:
        return
    delivery = mapping_at(value, path)
    retry = delivery.get("retry")
    if retry is not None and (isinstance(retry, bool) or not isinstance(retry, int) or retry < 0):
        fail(f"expected 0 <= {retry}", f"{path}.retry")
    policy = delivery.get("backoffPolicy")
    if policy is not None and policy not in {"linear", "exponential"}:
        fail(f"invalid value: {policy}", f"{path}.backoffPolicy")
    for key in ("backoffDelay", "timeout", "retryAfterMax"):
        raw = delivery.get(key)
        if raw is not None and _seconds(raw) is None:
            fail(f"invalid value: {raw}", f"{path}.{key}")
    timeout = delivery.get("timeout")
    if _seconds(timeout) == 0:
        fail(f"invalid value: {timeout}", f"{path}.timeout")
    fmt = delivery.get("format")
    if fmt is not None and fmt not in {"json", "binary"}:
        fail(f"invalid value: {fmt}", f"{path}.format")
    if delivery.get("deadLetterSink") is not None:
        check_destination(delivery["deadLetterSink"], f"{path}.deadLetterSink")


def validate_broker(resource: Mapping[str, Any]) -> None:
    """A Broker: metadata, optional config reference, delivery."""
    validate_metadata(resource, dns1035=False)
    spec = mapping_at(resource.get("spec"), "spec")
    validate_delivery(spec.get("delivery"), "spec.delivery")


def validate_trigger(resource: Mapping[str, Any]) -> None:
    """A Trigger: broker, subscriber, delivery, and filters compiled by bulut.events (CESQL
    syntax errors name the position)."""
    validate_metadata(resource, dns1035=False)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    if not spec.get("broker") and not spec.get("brokerRef"):
        fail("missing field(s)", "spec.broker")
    filter_spec = mapping_at(spec.get("filter"), "spec.filter")
    attributes = filter_spec.get("attributes")
    compile_trigger_filter(attributes, spec.get("filters"), path="spec")
    check_destination(spec.get("subscriber"), "spec.subscriber")
    validate_delivery(spec.get("delivery"), "spec.delivery")


def validate_pingsource(resource: Mapping[str, Any]) -> None:
    """A PingSource: schedule, data xor dataBase64, JSON data, sink."""
    validate_metadata(resource, dns1035=False)
    spec = mapping_at(resource.get("spec"), "spec", required=True)
    schedule = spec.get("schedule", "* * * * *")
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
