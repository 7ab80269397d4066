"""The one ISO-8601 duration parser: what Knative's webhook accepts, in seconds."""

from __future__ import annotations

import pytest

from bulut.errors import InvalidInputError, InvalidValueError
from bulut.manifests.durations import iso8601_seconds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT0.2S", 0.2),
        ("PT1S", 1.0),
        ("PT1M", 60.0),
        ("PT1M30S", 90.0),
        ("PT1H30M", 5400.0),
        ("PT2H", 7200.0),
        ("P1D", 86400.0),
    ],
)
def test_iso8601_durations_are_read_in_seconds(text: str, seconds: float) -> None:
    assert iso8601_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text", ["", "P", "PT", "P1DT", "0.2s", "1s", "PT-1S", "1 second", " PT1S"]
)
def test_what_is_not_an_iso8601_duration_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidValueError, match="ISO-8601") as raised:
        iso8601_seconds(text, field="delivery.backoffDelay")
    assert raised.value.field == "delivery.backoffDelay"
    assert str(raised.value).startswith("delivery.backoffDelay: ")


def test_a_bad_duration_is_bad_input_and_still_a_value_error() -> None:
    with pytest.raises(InvalidValueError) as raised:
        iso8601_seconds("soon")
    assert isinstance(raised.value, InvalidInputError)
    assert isinstance(raised.value, ValueError)
