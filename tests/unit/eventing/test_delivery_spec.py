"""Which delivery spec applies, and which answers Knative retries."""

from __future__ import annotations

import pytest

from bulut.eventing.backoff import BackoffPolicy
from bulut.eventing.delivery_spec import DeliverySpec, is_retryable, parse_delivery


@pytest.mark.parametrize("status", [0, 404, 408, 409, 429, 500, 502, 503, 504])
def test_retries_network_errors_5xx_404_408_409_and_429(status: int) -> None:
    assert is_retryable(status)


@pytest.mark.parametrize("status", [100, 301, 400, 401, 403, 405, 410, 413, 422])
def test_does_not_retry_other_answers(status: int) -> None:
    assert not is_retryable(status)


def test_reads_every_field_of_a_delivery_block() -> None:
    spec = parse_delivery(
        {
            "retry": 3,
            "backoffPolicy": "linear",
            "backoffDelay": "PT0.5S",
            "timeout": "PT2S",
            "retryAfterMax": "PT10S",
            "deadLetterSink": {"uri": "http://dls.default.localhost/"},
            "format": "json",
        }
    )
    assert spec == DeliverySpec(
        retry=3,
        backoff_policy=BackoffPolicy.linear,
        backoff_delay=0.5,
        timeout=2.0,
        retry_after_max=10.0,
        dead_letter_sink_uri="http://dls.default.localhost/",
        structured=True,
    )
    assert spec.attempts == 4
    assert [spec.wait_before_retry(i) for i in range(3)] == pytest.approx([0.0, 0.5, 1.0])


def test_a_resolved_dead_letter_sink_url_wins_over_the_spec() -> None:
    spec = parse_delivery({"deadLetterSink": {"ref": {"name": "x"}}}, "http://resolved/")
    assert spec.dead_letter_sink_uri == "http://resolved/"


def test_no_delivery_means_one_attempt_and_no_waits() -> None:
    spec = parse_delivery({})
    assert spec.attempts == 1
    assert spec.wait_before_retry(0) == 0.0


@pytest.mark.parametrize(
    ("delivery", "field"),
    [
        ({"backoffPolicy": "random"}, "backoffPolicy"),
        ({"backoffDelay": "soon"}, "backoffDelay"),
        ({"retry": -1}, "retry"),
        ({"timeout": "5"}, "timeout"),
    ],
)
def test_a_bad_field_is_named(delivery: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=f"delivery.{field}"):
        parse_delivery(delivery)
