"""RFC 3339 timestamps: what the ``time`` attribute accepts and how it says no."""

from __future__ import annotations

import pytest

from bulut.errors import InvalidCloudEventError
from bulut.events.timestamps import check_timestamp, is_timestamp, now_timestamp, timestamp_problem


@pytest.mark.parametrize(
    "value",
    [
        "2018-04-05T17:31:00Z",
        "2018-04-05T17:31:00.000000000Z",
        "2018-04-05T18:31:00+01:00",
        "2018-04-05T16:31:00-01:00",
        "2018-04-05t17:31:00z",
        "2016-02-29T00:00:00Z",
        "2000-02-29T00:00:00Z",
        "2016-12-31T23:59:60Z",
        "0000-01-01T00:00:00Z",
        "2018-04-05T17:31:00.123456789012Z",
        "2018-04-05T23:59:59+23:59",
    ],
)
def test_accepts_rfc_3339_date_times(value: str) -> None:
    assert is_timestamp(value)
    assert timestamp_problem(value) is None


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("lunchtime", "not an RFC 3339 timestamp"),
        ("2018-04-05T18:31Z", "not an RFC 3339 timestamp"),
        ("2018-04-05T18:31:00", "not an RFC 3339 timestamp"),
        ("2018-04-05T18:31:00X", "not an RFC 3339 timestamp"),
        ("2018-04-05T18:31:00+05", "not an RFC 3339 timestamp"),
        ("2018-04-05T18:31:00+xx:00", "not an RFC 3339 timestamp"),
        ("2018-04-05 18:31:00Z", "not an RFC 3339 timestamp"),
        ("20180405T183100Z", "not an RFC 3339 timestamp"),
        ("2018-04-05", "not an RFC 3339 timestamp"),
        ("٢٠١٨-04-05T18:31:00Z", "not an RFC 3339 timestamp"),
        ("2018-13-05T18:31:00Z", "month 13"),
        ("2018-00-05T18:31:00Z", "month 00"),
        ("2018-02-29T00:00:00Z", "has 28 days"),
        ("1900-02-29T00:00:00Z", "has 28 days"),
        ("2018-04-31T00:00:00Z", "has 30 days"),
        ("2018-04-05T24:00:00Z", "hour 24"),
        ("2018-04-05T23:60:00Z", "minute 60"),
        ("2018-04-05T23:59:61Z", "second 61"),
        ("2018-04-05T18:31:00+25:00", "offset 25:00"),
        ("2018-04-05T18:31:00+05:60", "offset 05:60"),
    ],
)
def test_rejects_other_strings_saying_what_is_wrong(value: str, complaint: str) -> None:
    assert not is_timestamp(value)
    problem = timestamp_problem(value)
    assert problem is not None
    assert complaint in problem


def test_an_invalid_time_error_names_the_attribute_and_quotes_the_value() -> None:
    with pytest.raises(InvalidCloudEventError) as caught:
        check_timestamp("time", "2018-13-05T18:31:00Z")
    assert caught.value.field == "time"
    assert "time has month 13" in caught.value.message
    assert "2018-13-05T18:31:00Z" in caught.value.message


def test_new_timestamps_are_valid_utc_with_a_z_offset() -> None:
    stamp = now_timestamp()
    assert is_timestamp(stamp)
    assert stamp.endswith("Z")
