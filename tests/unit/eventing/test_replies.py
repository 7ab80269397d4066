"""How a subscriber's answer is classified, as broker-filter does it."""

from __future__ import annotations

import pytest

from bulut.eventing.replies import Verdict, classify


def test_a_2xx_with_an_empty_body_is_delivered() -> None:
    assert classify(200, {}, b"").verdict is Verdict.delivered
    assert classify(202, {"content-type": "text/plain"}, b"").verdict is Verdict.delivered


def test_a_2xx_with_a_binary_cloudevent_is_a_reply() -> None:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "r1",
        "ce-source": "/reply",
        "ce-type": "reply",
        "content-type": "application/json",
    }
    answer = classify(200, headers, b'{"ok":true}')
    assert answer.verdict is Verdict.replied
    assert answer.reply is not None
    assert answer.reply.type == "reply"
    assert answer.reply.data == b'{"ok":true}'


def test_a_2xx_with_a_structured_cloudevent_is_a_reply() -> None:
    body = b'{"specversion":"1.0","id":"r","source":"/s","type":"t","data":{"a":1}}'
    answer = classify(200, {"content-type": "application/cloudevents+json"}, body)
    assert answer.verdict is Verdict.replied


def test_a_2xx_with_a_plain_body_is_a_502_failure_that_is_retried() -> None:
    answer = classify(200, {"content-type": "text/plain"}, b"OK")
    assert (answer.verdict, answer.code) == (Verdict.retry, 502)
    assert "not recognized as CloudEvent" in answer.message


def test_a_2xx_with_a_broken_cloudevent_is_a_502_failure() -> None:
    answer = classify(200, {"ce-specversion": "1.0", "ce-id": "x"}, b"")
    assert (answer.verdict, answer.code) == (Verdict.retry, 502)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(500, Verdict.retry), (503, Verdict.retry), (429, Verdict.retry), (404, Verdict.retry),
     (400, Verdict.failed), (401, Verdict.failed), (413, Verdict.failed)],
)  # fmt: skip
def test_a_non_2xx_is_a_failure_retried_only_when_knative_retries_it(
    status: int, verdict: Verdict
) -> None:
    answer = classify(status, {}, b"boom")
    assert (answer.verdict, answer.code) == (verdict, status)
