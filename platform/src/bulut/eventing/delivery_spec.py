"""Knative's ``DeliverySpec`` and the rules that choose and read it (pure).

Which ``delivery`` applies (a Trigger's replaces the Broker's whole) and the values a
DeliverySpec may hold are Knative's API rules, in :mod:`bulut.apis.rules.duck`. Retryable
outcomes follow Knative's ``SelectiveRetry``: no response, 5xx, 404, 408, 409 and 429.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bulut.errors import InvalidValueError
from bulut.manifests.durations import iso8601_seconds

from .backoff import BackoffPolicy, retry_after_wait, retry_wait

RETRYABLE_CODES = frozenset({404, 408, 409, 429})
NO_RESPONSE = 0  # stands for "no HTTP response" (connection error, timeout)


def is_retryable(status: int) -> bool:
    """Whether Knative retries an attempt that ended with ``status`` (0 = no response)."""
    return status == NO_RESPONSE or status >= 500 or status in RETRYABLE_CODES


@dataclass(frozen=True, slots=True)
class DeliverySpec:
    """The effective delivery settings of one trigger."""

    retry: int = 0
    backoff_policy: BackoffPolicy | None = None
    backoff_delay: float | None = None
    timeout: float | None = None
    retry_after_max: float | None = None
    dead_letter_sink_uri: str | None = None
    structured: bool = False

    def wait_before_retry(self, retry_index: int, retry_after: float | None = None) -> float:
        """Seconds to sleep before the zero-based retry ``retry_index``."""
        wait = retry_wait(self.backoff_policy, self.backoff_delay, retry_index)
        return retry_after_wait(wait, retry_after, self.retry_after_max)

    @property
    def attempts(self) -> int:
        """Total attempts: the first plus ``retry`` retries."""
        return self.retry + 1


def parse_delivery(
    delivery: Mapping[str, Any], dead_letter_sink_uri: str | None = None
) -> DeliverySpec:
    """Read a ``delivery`` block; ``dead_letter_sink_uri`` is the resolved sink URL.

    Raises :class:`~bulut.errors.InvalidValueError` (a ValueError) naming the field when a
    value cannot be read.
    """

    def duration(field: str) -> float | None:
        value = delivery.get(field)
        if value in (None, ""):
            return None
        return iso8601_seconds(str(value), field=f"delivery.{field}")

    policy_text = delivery.get("backoffPolicy")
    try:
        policy = BackoffPolicy(policy_text) if policy_text else None
    except ValueError:
        raise InvalidValueError(
            f"delivery.backoffPolicy: {policy_text!r} is not linear or exponential",
            field="delivery.backoffPolicy",
        ) from None
    retry = int(delivery.get("retry") or 0)
    if retry < 0:
        raise InvalidValueError("delivery.retry: must be >= 0", field="delivery.retry")
    delay = duration("backoffDelay")
    if dead_letter_sink_uri is None:
        sink = delivery.get("deadLetterSink") or {}
        uri = sink.get("uri") if isinstance(sink, Mapping) else None
        dead_letter_sink_uri = str(uri) if uri else None
    return DeliverySpec(
        retry=retry,
        backoff_policy=policy,
        backoff_delay=delay,
        timeout=duration("timeout"),
        retry_after_max=duration("retryAfterMax"),
        dead_letter_sink_uri=dead_letter_sink_uri,
        structured=delivery.get("format") == "json",
    )
