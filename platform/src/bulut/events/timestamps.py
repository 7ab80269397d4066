"""RFC 3339 timestamps, the CloudEvents ``Timestamp`` type.

The ``time`` attribute keeps its string form; this module only decides whether a
string is a valid RFC 3339 ``date-time`` (section 5.6) and makes new ones.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

from bulut.errors import InvalidCloudEventError

# date-time = full-date "T" full-time; time-offset = "Z" / ("+" / "-") HH ":" MM.
# [0-9] rather than \d: \d also matches non-ASCII digits.
_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-]([0-9]{2}):([0-9]{2}))"
)
_SHAPE: Final = _DATE_TIME.fullmatch
# The same grammar with the ranges spelled out (month, day of month, hour, minute, second
# 00-60, offset): one C call settles almost every valid timestamp. Only February 29 is
# left out (it depends on the year); what this does not match gets the exact checks.
_IN_RANGE = re.compile(
    r"[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
    r"|(?:0[13578]|1[02])-31)[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
#: A quick test for decoders: a match means ``value`` is an RFC 3339 date-time; no match
#: says nothing (February 29, or invalid): ask ``is_timestamp``.
QUICK_TIMESTAMP: Final = _IN_RANGE.fullmatch
_FROM_ISO: Final = datetime.fromisoformat
_DAYS_IN_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def is_timestamp(value: str) -> bool:
    """True when ``value`` is an RFC 3339 date-time.

    Seconds may be 60 (a leap second), fractions may have any number of digits, and
    the offset is ``Z`` or ``±HH:MM`` (``T`` and ``Z`` case-insensitive, as RFC 3339 allows).
    """
    if QUICK_TIMESTAMP(value) is not None:
        return True
    if _SHAPE(value) is None:
        return False
    try:
        _FROM_ISO(value)  # C fast path for the ranges; exact enough once the shape is right
    except ValueError:
        return _range_problem(value) is None  # leap seconds, year 0000, long fractions
    # fromisoformat folds an offset of +05:60 into +06:00: minutes must be checked here.
    return value[-1] in "Zz" or value[-2] <= "5"


def timestamp_problem(value: str) -> str | None:
    """What is wrong with ``value`` as an RFC 3339 date-time, or None when it is valid."""
    if is_timestamp(value):
        return None
    if _SHAPE(value) is None:
        return (
            "is not an RFC 3339 timestamp like 2018-04-05T17:31:00Z "
            "(date, time with seconds, and an offset)"
        )
    return _range_problem(value)


def _range_problem(value: str) -> str | None:
    """The slow, exact range check of a well-shaped timestamp, with a precise message."""
    match = _DATE_TIME.fullmatch(value)
    assert match is not None  # only called on well-shaped values
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    if not 1 <= month <= 12:
        return f"has month {month:02d} (must be 01-12)"
    days = _DAYS_IN_MONTH[month]
    if month == 2 and not _is_leap(year):
        days = 28
    if not 1 <= day <= days:
        return f"has day {day:02d}, but month {month:02d} of {year:04d} has {days} days"
    if hour > 23:
        return f"has hour {hour:02d} (must be 00-23)"
    if minute > 59:
        return f"has minute {minute:02d} (must be 00-59)"
    if second > 60:
        return f"has second {second:02d} (must be 00-60)"
    offset_hour, offset_minute = match.group(7, 8)
    if offset_hour is not None and (int(offset_hour) > 23 or int(offset_minute) > 59):
        return f"has offset {offset_hour}:{offset_minute} (hours 00-23, minutes 00-59)"
    return None


def check_timestamp(name: str, value: str) -> None:
    """Raise InvalidCloudEventError naming ``name`` unless ``value`` is RFC 3339."""
    if not is_timestamp(value):
        problem = timestamp_problem(value)
        raise InvalidCloudEventError(f"{name} {problem}, got {value!r:.80}", field=name)


def now_timestamp() -> str:
    """The current UTC time as RFC 3339 with microseconds and a ``Z`` offset."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
