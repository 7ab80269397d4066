"""Token buckets: bursts pass, the excess waits, Retry-After is honest."""

from __future__ import annotations

import pytest

from bulut.edge.ratelimit import RateLimiter, parse_rate
from bulut.errors import InvalidInputError


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_next_request_waits_for_a_token() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3.0, clock=clock)
    assert [limiter.check("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.check("a") == 1
    clock.now = 0.5
    assert limiter.check("a") == 0


def test_clients_have_their_own_buckets() -> None:
    limiter = RateLimiter(rate=1.0, burst=1.0, clock=Clock())
    assert (limiter.check("a"), limiter.check("b"), limiter.check("a")) == (0, 0, 1)


def test_retry_after_rounds_up_to_whole_seconds() -> None:
    limiter = RateLimiter(rate=0.1, burst=1.0, clock=Clock())
    limiter.check("a")
    assert limiter.check("a") == 10


def test_the_oldest_clients_are_forgotten_beyond_the_bound() -> None:
    limiter = RateLimiter(rate=1.0, burst=1.0, clock=Clock(), max_clients=2)
    limiter.check("a")
    limiter.check("b")
    limiter.check("c")
    assert limiter.check("a") == 0, "a was evicted, so it starts with a full bucket"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("100/s", (100.0, 100.0)), ("600/m", (10.0, 10.0)), ("5/s,burst=20", (5.0, 20.0))],
)
def test_rates_are_parsed_from_short_strings(text: str, expected: tuple[float, float]) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["", "fast", "0/s", "10/d", "10/s,burst=x"])
def test_bad_rates_name_the_setting(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_rate(text)
    assert caught.value.field == "rate_limit"
