"""Retry waits follow Knative's production call path (zero-based retry index)."""

from __future__ import annotations

import pytest

from bulut.eventing.backoff import BackoffPolicy, retry_after_wait, retry_wait


@pytest.mark.parametrize(
    ("policy", "waits"),
    [
        (BackoffPolicy.exponential, [0.2, 0.4, 0.8, 1.6]),
        (BackoffPolicy.linear, [0.0, 0.2, 0.4, 0.6]),
    ],
)
def test_waits_before_each_retry_match_knative(policy: BackoffPolicy, waits: list[float]) -> None:
    assert [retry_wait(policy, 0.2, i) for i in range(4)] == pytest.approx(waits)


def test_broker_default_waits_add_up_to_about_205_seconds_for_ten_retries() -> None:
    total = sum(retry_wait(BackoffPolicy.exponential, 0.2, i) for i in range(10))
    assert total == pytest.approx(204.6)


def test_retries_are_immediate_without_a_policy_or_delay() -> None:
    assert retry_wait(None, 0.2, 3) == 0.0
    assert retry_wait(BackoffPolicy.linear, None, 3) == 0.0


@pytest.mark.parametrize(
    ("backoff", "retry_after", "cap", "expected"),
    [
        (0.2, 5.0, 2.0, 2.0),  # Retry-After capped by retryAfterMax
        (0.2, 1.0, 2.0, 1.0),
        (3.0, 1.0, 2.0, 3.0),  # backoff wins when longer
        (0.2, 5.0, None, 0.2),  # feature off
        (0.2, 5.0, 0.0, 0.2),  # PT0S disables it
        (0.2, None, 2.0, 0.2),
    ],
)
def test_retry_after_is_honoured_up_to_retry_after_max(
    backoff: float, retry_after: float | None, cap: float | None, expected: float
) -> None:
    assert retry_after_wait(backoff, retry_after, cap) == pytest.approx(expected)
