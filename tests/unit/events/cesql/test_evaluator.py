"""Evaluation semantics: implicit casts, error propagation, short-circuits and overflow."""

from __future__ import annotations

import pytest

from bulut.events.cesql import ErrorKind, Value, parse

CAST, MATH, MISSING = ErrorKind.CAST, ErrorKind.MATH, ErrorKind.MISSING_ATTRIBUTE

EVENT: dict[str, Value] = {
    "id": "1",
    "source": "/s",
    "specversion": "1.0",
    "type": "com.example.order",
    "count": "10",
    "myint": 10,
    "mybool": True,
    "empty": "",
}


def evaluate(expression: str, event: dict[str, Value] = EVENT) -> tuple[Value, list[ErrorKind]]:
    result = parse(expression).evaluate(event)
    return result.value, [error.kind for error in result.errors]


@pytest.mark.parametrize(
    ("expression", "value", "kinds"),
    [
        ("2147483647 + 1", -2147483648, [MATH]),
        ("-2147483648 - 1", 2147483647, [MATH]),
        ("65536 * 65536", 0, [MATH]),
        ("-2147483648 / -1", -2147483648, [MATH]),
        ("-(-2147483648)", -2147483648, [MATH]),
        ("-2147483648 % -1", 0, []),
        ("7 / 2", 3, []),
        ("-7 / 2", -3, []),
        ("7 / -2", -3, []),
        ("-7 / -2", 3, []),
        ("7 % 3", 1, []),
        ("-7 % 3", -1, []),
        ("7 % -3", 1, []),
        ("-7 % -3", -1, []),
    ],
)
def test_integer_arithmetic_is_32_bit_with_truncated_division(
    expression: str, value: Value, kinds: list[ErrorKind]
) -> None:
    assert evaluate(expression) == (value, kinds)


@pytest.mark.parametrize(
    ("expression", "value", "kinds"),
    [
        ("'abc' + 1", 1, [CAST]),
        ("'a' + 'b'", 0, [CAST, CAST]),
        ("NOT 'abc'", True, [CAST]),
        ("'abc' AND TRUE", False, [CAST]),
        ("'x' < 1", True, [CAST]),
        ("-'x'", 0, [CAST]),
        ("('a' + 1) = 1", False, [CAST]),
        ("1 = 'abc'", False, []),
        ("'10' > '9'", True, []),
        ("count = 10", True, []),
        ("count = '10'", True, []),
        ("myint = '10'", True, []),
        ("myint > 5", True, []),
        ("mybool = 'true'", True, []),
        ("mybool", True, []),
        ("10 = TRUE", True, []),
        ("0 = FALSE", True, []),
    ],
)
def test_implicit_casts_follow_the_right_operand_and_a_failed_cast_carries_on(
    expression: str, value: Value, kinds: list[ErrorKind]
) -> None:
    assert evaluate(expression) == (value, kinds)


@pytest.mark.parametrize(
    ("expression", "value", "kinds"),
    [
        ("missing", False, [MISSING]),
        ("missing + 1", 0, [MISSING]),
        ("missing LIKE '%'", False, [MISSING]),
        ("missing NOT LIKE 'x'", False, [MISSING]),
        ("missing IN ('a')", False, [MISSING]),
        ("missing NOT IN ('a')", False, [MISSING]),
        ("'a' IN ('b', missing)", False, [MISSING]),
        ("'a' IN ('a', missing)", True, []),
        ("missing = 1 OR TRUE", False, [MISSING]),
        ("TRUE OR missing = 1", True, []),
        ("FALSE AND missing", False, []),
        ("missing AND FALSE", False, [MISSING]),
        ("FALSE XOR missing", False, [MISSING]),
        ("NOT (missing = 1)", False, [MISSING]),
        ("1 / 0 = 0", False, [MATH]),
        ("(1 / 0) / 0", 0, [MATH]),
        ("LENGTH(CONCAT(missing, nothing))", 0, [MISSING]),
        ("empty = ''", True, []),
    ],
)
def test_an_operand_error_makes_the_operator_return_its_zero_value(
    expression: str, value: Value, kinds: list[ErrorKind]
) -> None:
    assert evaluate(expression) == (value, kinds)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("TRUE OR FALSE AND FALSE", True),
        ("FALSE AND FALSE OR TRUE", False),
        ("(FALSE AND FALSE) OR TRUE", True),
        ("TRUE XOR TRUE AND FALSE", True),
    ],
)
def test_logical_operators_share_one_level_and_group_right_to_left(
    expression: str, value: bool
) -> None:
    assert evaluate(expression) == (value, [])


@pytest.mark.parametrize(
    ("expression", "value", "kinds"),
    [
        ("123 IN (1, 123)", True, []),
        ("123 IN ('123')", True, []),
        ("'123' IN (123)", True, []),
        ("'0123' IN (123)", False, []),
        ("FALSE IN ('false', 'x')", True, []),
        ("TRUE IN ('x')", False, [CAST]),
        ("5 IN ('a', 5)", True, [CAST]),
        ("type IN ('a', 'com.example.order')", True, []),
        ("type NOT IN ('a', 'b')", True, []),
        ("type NOT IN ('com.example.order')", False, []),
        ("myint IN ('10')", True, []),
    ],
)
def test_in_casts_each_value_to_the_left_operands_type(
    expression: str, value: Value, kinds: list[ErrorKind]
) -> None:
    assert evaluate(expression) == (value, kinds)


@pytest.mark.parametrize(
    ("expression", "event", "value"),
    [
        ("EXISTS count", EVENT, True),
        ("EXISTS COUNT", EVENT, True),
        ("EXISTS subject", EVENT, False),
        ("EXISTS empty", EVENT, True),
        ("EXISTS id", {}, True),
        ("EXISTS specversion", {}, True),
        ("EXISTS source AND EXISTS type", {}, True),
        ("EXISTS datacontenttype", {}, False),
    ],
)
def test_exists_is_true_for_required_attributes_and_present_ones(
    expression: str, event: dict[str, Value], value: bool
) -> None:
    assert evaluate(expression, event) == (value, [])


def test_identifiers_are_case_insensitive_attribute_names() -> None:
    assert evaluate("TYPE = 'com.example.order' AND Count = 10") == (True, [])


def test_keywords_and_function_names_are_case_insensitive() -> None:
    assert evaluate("type like 'com.%' and not (lower('A') <> 'a') xor false") == (True, [])


def test_comparisons_of_strings_are_case_sensitive() -> None:
    assert evaluate("type = 'COM.EXAMPLE.ORDER'") == (False, [])


def test_an_attribute_set_to_none_counts_as_missing() -> None:
    result = parse("subject = 'x'").evaluate({"subject": None})  # type: ignore[dict-item]
    assert [error.kind for error in result.errors] == [MISSING]
