"""Go-syntax values: what Knative's strconv and time.ParseDuration accept, and nothing more."""

from __future__ import annotations

import pytest

from bulut.manifests.autoscaling.values import (
    format_seconds,
    is_whole_seconds,
    parse_bool,
    parse_duration,
    parse_float,
    parse_int32,
    parse_integer,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("+0", 0.0),
        ("60s", 60.0),
        ("1m30s", 90.0),
        ("500ms", 0.5),
        ("6000ms", 6.0),
        ("1h", 3600.0),
        ("1.5m", 90.0),
        (".5s", 0.5),
        ("1h1s", 3601.0),
        ("-1s", -1.0),
        ("1500us", 0.0015),
    ],
)
def test_go_durations_parse_to_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "60", "s", "1x", "1s2", " 1s", "6s ", "1d", "٣s", "-"])
def test_text_go_rejects_is_not_a_duration(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("3", 3), ("+3", 3), ("-1", -1), ("2147483647", 2147483647)],
)
def test_int32_values_parse(text: str, value: int) -> None:
    assert parse_int32(text) == value


@pytest.mark.parametrize("text", ["", "3.0", " 3", "3 ", "1e3", "0x10", "٣", "2147483648", "x"])
def test_text_go_rejects_is_not_an_int32(text: str) -> None:
    assert parse_int32(text) is None


def test_an_integer_out_of_int32_range_is_still_an_integer() -> None:
    assert parse_integer("99999999999") == 99999999999
    assert parse_integer("1.0") is None


@pytest.mark.parametrize(
    ("text", "value"), [("0.01", 0.01), ("70", 70.0), ("-1", -1.0), ("1e2", 100.0), ("+5", 5.0)]
)
def test_finite_floats_parse(text: str, value: float) -> None:
    assert parse_float(text) == value


@pytest.mark.parametrize("text", ["", " 5", "5 ", "1_0", "nan", "NaN", "inf", "-Inf", "٣", "x"])
def test_padding_underscores_and_non_finite_values_are_not_floats(text: str) -> None:
    assert parse_float(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("True", True), ("1", True), ("t", True), ("false", False), ("0", False)],
)
def test_go_booleans_parse(text: str, value: bool) -> None:
    assert parse_bool(text) is value


@pytest.mark.parametrize("text", ["yes", "no", "", "TRUE "])
def test_other_words_are_not_booleans(text: str) -> None:
    assert parse_bool(text) is None


def test_whole_seconds_and_their_display() -> None:
    assert is_whole_seconds(6.0)
    assert not is_whole_seconds(6.5)
    assert format_seconds(3600.0) == "3600s"
    assert format_seconds(0.5) == "0.5s"
