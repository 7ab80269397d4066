"""Built-in functions beyond what the TCK pins down."""

from __future__ import annotations

import pytest

from bulut.events.cesql import ErrorKind, Value, parse
from bulut.events.cesql.functions import BUILTINS, UNICODE_WHITESPACE, resolve


def evaluate(expression: str, **event: Value) -> tuple[Value, list[ErrorKind]]:
    result = parse(expression).evaluate(event)
    return result.value, [error.kind for error in result.errors]


def test_every_builtin_the_spec_and_tck_name_is_defined() -> None:
    assert set(BUILTINS) == {
        "LENGTH", "CONCAT", "CONCAT_WS", "LOWER", "UPPER", "TRIM", "LEFT", "RIGHT",
        "SUBSTRING", "ABS", "INT", "BOOL", "STRING", "IS_INT", "IS_BOOL",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "arity", "found"),
    [
        ("SUBSTRING", 1, False),
        ("SUBSTRING", 2, True),
        ("SUBSTRING", 3, True),
        ("SUBSTRING", 4, False),
        ("CONCAT", 0, True),
        ("CONCAT", 9, True),
        ("CONCAT_WS", 0, False),
        ("LENGTH", 2, False),
        ("NOPE", 1, False),
    ],
)
def test_functions_dispatch_on_name_and_arity(name: str, arity: int, found: bool) -> None:
    assert (resolve(name, arity) is not None) is found


@pytest.mark.parametrize(
    ("expression", "value", "kinds"),
    [
        ("length('héllo 日本')", 8, []),
        ("Lower('ÀB')", "àb", []),
        ("TRIM('\u3000\u00a0x\t\n')", "x", []),
        ("TRIM('\x1cx\x1f')", "\x1cx\x1f", []),
        ("CONCAT(1, TRUE, 'x')", "1truex", []),
        ("CONCAT_WS(1, 2, 3)", "213", []),
        ("LEFT(12345, '2')", "12", []),
        ("LEFT('abc', 'x')", "", [ErrorKind.CAST]),
        ("SUBSTRING('abc', 'x', 2)", "", [ErrorKind.CAST]),
        ("SUBSTRING('abc', 2, 'x')", "", [ErrorKind.CAST]),
        ("SUBSTRING('abcd', '2', '2')", "bc", []),
        ("RIGHT('abc', 0)", "", []),
        ("RIGHT('abc', 3)", "abc", []),
        ("SUBSTRING('abc', 3)", "c", []),
        ("SUBSTRING('abc', -3)", "abc", []),
        ("SUBSTRING('abc', 1, 0)", "", []),
        ("SUBSTRING('abc', 2, 100)", "bc", []),
        ("SUBSTRING('abc', 1, -1)", "", [ErrorKind.FUNCTION_EVALUATION]),
        ("SUBSTRING('', 0)", "", []),
        ("ABS(-2147483647)", 2147483647, []),
        ("ABS('-3')", 3, []),
        ("IS_INT('-12')", True, []),
        ("IS_INT('12a')", False, []),
        ("IS_INT('2147483648')", False, []),
        ("IS_INT(TRUE)", True, []),
        ("IS_BOOL('False')", True, []),
        ("IS_BOOL('no')", False, []),
        ("IS_BOOL(0)", True, []),
        ("INT('+7')", 7, []),
        ("INT(' 7')", 0, [ErrorKind.CAST]),
        ("STRING(-0)", "0", []),
        ("UPPER(LOWER(UPPER('mIx')))", "MIX", []),
    ],
)
def test_builtin_function_results(expression: str, value: Value, kinds: list[ErrorKind]) -> None:
    result, errors = evaluate(expression)
    assert result == value and type(result) is type(value)
    assert errors == kinds


def test_a_missing_function_does_not_evaluate_its_arguments() -> None:
    assert evaluate("NOPE(missing, 1 / 0)") == (False, [ErrorKind.MISSING_FUNCTION])


def test_a_function_whose_argument_fails_returns_its_types_zero_value() -> None:
    assert evaluate("LENGTH(missing)") == (0, [ErrorKind.MISSING_ATTRIBUTE])
    assert evaluate("UPPER(LEFT('abc', -1))") == ("", [ErrorKind.FUNCTION_EVALUATION])
    assert evaluate("IS_INT(1 / 0)") == (False, [ErrorKind.MATH])


def test_function_arguments_are_read_from_the_event() -> None:
    assert evaluate("CONCAT(type, '/', sequence)", type="t", sequence=3) == ("t/3", [])


def test_trim_strips_exactly_unicode_white_space() -> None:
    assert "\x1c" not in UNICODE_WHITESPACE
    assert all(char.isspace() for char in UNICODE_WHITESPACE)
