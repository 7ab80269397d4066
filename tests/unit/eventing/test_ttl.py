"""The ingress sets, decrements and enforces knativebrokerttl."""

from __future__ import annotations

import pytest

from bulut.eventing.ttl import DEFAULT_TTL, TTLExhaustedError, ingress_ttl


def test_an_event_without_ttl_gets_the_default_of_255() -> None:
    assert ingress_ttl({"id": "1"}) == DEFAULT_TTL == 255


@pytest.mark.parametrize(("given", "stored"), [(255, 254), ("10", 9), (2, 1)])
def test_an_event_with_ttl_gets_it_decremented(given: object, stored: int) -> None:
    assert ingress_ttl({"knativebrokerttl": given}) == stored


@pytest.mark.parametrize("given", [1, 0, "1", "0"])
def test_an_event_whose_ttl_reaches_zero_is_refused(given: object) -> None:
    with pytest.raises(TTLExhaustedError, match="reached 0"):
        ingress_ttl({"knativebrokerttl": given})


@pytest.mark.parametrize(
    "given", ["many", -3, "-3", 256, "256", "99999999999999999999", 2**70, "1e3", " 5", True, 1.5]
)
def test_a_ttl_that_is_not_an_integer_from_0_to_255_is_refused(given: object) -> None:
    with pytest.raises(TTLExhaustedError, match="integer from 0 to 255"):
        ingress_ttl({"knativebrokerttl": given})


def test_the_maximum_is_configurable() -> None:
    assert ingress_ttl({}, max_ttl=5) == 5
