"""Casts between Boolean, Integer and String (CloudEvents SQL 1.0 §3.7)."""

from __future__ import annotations

import pytest

from bulut.events.cesql.casting import (
    Type,
    Value,
    cast,
    parse_integer,
    to_boolean,
    to_integer,
    to_string,
    wrap_int32,
)
from bulut.events.cesql.errors import ErrorKind, EvaluationError


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0", 0),
        ("42", 42),
        ("+42", 42),
        ("-42", -42),
        ("007", 7),
        ("2147483647", 2147483647),
        ("-2147483648", -2147483648),
        ("2147483648", None),
        ("-2147483649", None),
        ("", None),
        ("-", None),
        (" 1", None),
        ("1 ", None),
        ("1_000", None),
        ("1.0", None),
        ("0x10", None),
        ("٣", None),
    ],
)
def test_parse_integer_accepts_only_signed_ascii_32_bit_integers(
    text: str, number: int | None
) -> None:
    assert parse_integer(text) == number


@pytest.mark.parametrize(
    ("value", "expected", "failed"),
    [
        (True, 1, False),
        (False, 0, False),
        (-5, -5, False),
        ("12", 12, False),
        ("abc", 0, True),
        ("99999999999", 0, True),
    ],
)
def test_to_integer_follows_the_cast_table(value: Value, expected: int, failed: bool) -> None:
    errors: list[EvaluationError] = []
    result = to_integer(value, errors)
    assert result == expected and type(result) is int
    assert [e.kind for e in errors] == ([ErrorKind.CAST] if failed else [])


@pytest.mark.parametrize(
    ("value", "expected", "failed"),
    [
        (True, True, False),
        (0, False, False),
        (-50, True, False),
        ("TRUE", True, False),
        ("false", False, False),
        ("FaLsE", False, False),
        ("yes", False, True),
        ("1", False, True),
        ("", False, True),
    ],
)
def test_to_boolean_follows_the_cast_table(value: Value, expected: bool, failed: bool) -> None:
    errors: list[EvaluationError] = []
    assert to_boolean(value, errors) is expected
    assert [e.kind for e in errors] == ([ErrorKind.CAST] if failed else [])


@pytest.mark.parametrize(
    ("value", "text"),
    [(True, "true"), (False, "false"), (0, "0"), (-12, "-12"), ("As Is", "As Is")],
)
def test_to_string_never_fails(value: Value, text: str) -> None:
    assert to_string(value) == text


def test_cast_to_any_leaves_the_value_alone() -> None:
    errors: list[EvaluationError] = []
    assert cast("x", Type.ANY, errors) == "x"
    assert cast(7, Type.STRING, errors) == "7"
    assert errors == []


@pytest.mark.parametrize(
    ("number", "wrapped"),
    [(2**31, -(2**31)), (-(2**31) - 1, 2**31 - 1), (2**32 + 5, 5), (123, 123)],
)
def test_wrap_int32_is_twos_complement(number: int, wrapped: int) -> None:
    assert wrap_int32(number) == wrapped
