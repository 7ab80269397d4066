"""Backup intervals parse like the flags users type."""

from __future__ import annotations

import pytest

from bulut.dr.schedule import parse_interval
from bulut.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300.0), ("30s", 30.0), ("1h", 3600.0), ("90", 90.0), ("1.5m", 90.0)],
)
def test_intervals_parse_to_seconds(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "5 minutes", "-1m"])
def test_bad_intervals_name_the_flag(text: str) -> None:
    with pytest.raises(ConfigError, match="--backup-every"):
        parse_interval(text)
