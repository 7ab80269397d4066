"""What a subscriber's answer means for a delivery (pure).

Knative's broker-filter rules: a 2xx with an empty body is a success; a 2xx whose
body is a CloudEvent (binary ``ce-*`` headers or a structured content type) is a
success *and* a reply, which goes back into the broker; a 2xx with any other
non-empty body, or a CloudEvent that does not parse, becomes **502** and is retried
like any failure. Non-2xx answers are failures, retried when Knative retries them.

A channel's fan-out is more lenient (``any_body``): a 2xx whose answer is not a
CloudEvent is a success and its body is discarded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bulut.errors import InvalidCloudEventError
from bulut.events import CloudEvent, decode

from .delivery_spec import is_retryable

NOT_A_CLOUDEVENT = 502


class Verdict(StrEnum):
    """How one attempt ended."""

    delivered = "delivered"
    replied = "replied"
    retry = "retry"
    failed = "failed"


@dataclass(frozen=True, slots=True)
class Answer:
    """The classified answer of one attempt; ``code`` is what Knative would record."""

    verdict: Verdict
    code: int
    reply: CloudEvent | None = None
    message: str = ""


def _looks_like_cloudevent(headers: Mapping[str, str]) -> bool:
    if "ce-specversion" in headers:
        return True
    content_type = headers.get("content-type", "").lower()
    return content_type.startswith("application/cloudevents")


def classify(
    status: int, headers: Mapping[str, str], body: bytes, *, any_body: bool = False
) -> Answer:
    """Classify an HTTP answer; ``headers`` have lower-case names; 0 = no response.

    ``any_body``: a 2xx that is not a CloudEvent is delivered (a channel's rule).
    """
    if not 200 <= status < 300:
        verdict = Verdict.retry if is_retryable(status) else Verdict.failed
        return Answer(verdict, status, message=f"subscriber answered {status}")
    if not body and "ce-specversion" not in headers:
        return Answer(Verdict.delivered, status)
    if not _looks_like_cloudevent(headers):
        if any_body:
            return Answer(Verdict.delivered, status)
        return Answer(
            Verdict.retry,
            NOT_A_CLOUDEVENT,
            message="received a non-empty response not recognized as CloudEvent",
        )
    try:
        decoded = decode(headers, body)
    except InvalidCloudEventError as error:
        return Answer(Verdict.retry, NOT_A_CLOUDEVENT, message=f"invalid reply: {error}")
    if isinstance(decoded, list):
        return Answer(Verdict.retry, NOT_A_CLOUDEVENT, message="a batch is not a reply")
    return Answer(Verdict.replied, status, reply=decoded)
