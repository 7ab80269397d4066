"""Knative's duck types shared by eventing, messaging, flows and sources kinds.

A ``Destination`` (``ref`` and/or ``uri``) and a ``DeliverySpec`` (retry, backoff,
timeouts, dead-letter sink, format). The admission rules here and the eventing data plane
(:mod:`bulut.eventing.delivery_spec`) read the same field names and values from this module;
:func:`effective_delivery` is Knative's rule for which ``delivery`` applies to a Trigger.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulut.errors import InvalidValueError
from bulut.manifests.durations import iso8601_seconds

from .paths import fail, mapping_at

BACKOFF_POLICIES = ("linear", "exponential")
DELIVERY_FORMATS = ("json", "binary")
DELIVERY_DURATIONS = ("backoffDelay", "timeout", "retryAfterMax")
"""The DeliverySpec fields that hold an ISO-8601 duration."""


def check_destination(value: Any, path: str) -> None:
    """A duck Destination: ``ref`` (kind, name, apiVersion) and/or an absolute ``uri``."""
    dest = mapping_at(value, path, required=True)
    ref, uri = dest.get("ref"), dest.get("uri")
    if not ref and not uri:
        fail("expected exactly one, got neither", f"{path}.ref, {path}.uri")
    if ref:
        ref_map = mapping_at(ref, f"{path}.ref")
        for key in ("kind", "name", "apiVersion"):
            if not ref_map.get(key):
                fail("missing field(s)", f"{path}.ref.{key}")
    if uri is not None and not isinstance(uri, str):
        fail("expected a string", f"{path}.uri")
    if uri and not ref and "://" not in uri:
        fail(f"invalid value: relative URI is not allowed without a ref: {uri}", f"{path}.uri")


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
    if policy is not None and policy not in BACKOFF_POLICIES:
        fail(f"invalid value: {policy}", f"{path}.backoffPolicy")
    for key in DELIVERY_DURATIONS:
        raw = delivery.get(key)
        if raw is not None and _seconds(raw) is None:
            fail(f"invalid value: {raw}", f"{path}.{key}")
    timeout = delivery.get("timeout")
    if _seconds(timeout) == 0:
        fail(f"invalid value: {timeout}", f"{path}.timeout")
    fmt = delivery.get("format")
    if fmt is not None and fmt not in DELIVERY_FORMATS:
        fail(f"invalid value: {fmt}", f"{path}.format")
    if delivery.get("deadLetterSink") is not None:
        check_destination(delivery["deadLetterSink"], f"{path}.deadLetterSink")


def effective_delivery(
    trigger_delivery: Mapping[str, Any] | None, broker_delivery: Mapping[str, Any] | None
) -> Mapping[str, Any]:
    """The trigger's delivery if it has one, else the broker's (whole, never merged).

    Knative copies one or the other into the Subscription, so a trigger that sets only
    ``retry`` loses the broker's dead-letter sink.
    """
    if trigger_delivery:
        return trigger_delivery
    return broker_delivery or {}
