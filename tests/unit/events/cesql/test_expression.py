"""The public CESQL API: parse once, evaluate and match many events."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from bulut.events.cesql import (
    CesqlSyntaxError,
    ErrorKind,
    EvaluationError,
    EvaluationResult,
    Expression,
    Value,
    parse,
)

EVENT: dict[str, Value] = {"id": "1", "source": "/s", "specversion": "1.0", "type": "t"}


def test_parse_returns_a_reusable_expression() -> None:
    expression = parse("type = 'order'")
    assert isinstance(expression, Expression)
    assert repr(expression) == "Expression(\"type = 'order'\")"
    assert expression.matches({**EVENT, "type": "order"})
    assert not expression.matches({**EVENT, "type": "refund"})
    assert expression.matches({**EVENT, "type": "order"})


def test_evaluate_returns_the_value_and_no_errors_when_all_goes_well() -> None:
    result = parse("LENGTH(type) + 1").evaluate(EVENT)
    assert result == EvaluationResult(2, ())
    assert result.ok


def test_evaluate_returns_the_value_with_every_error() -> None:
    result = parse("'x' + 'y'").evaluate(EVENT)
    assert result.value == 0
    assert not result.ok
    assert [str(error) for error in result.errors] == [
        "cast: cannot cast 'x' to Integer",
        "cast: cannot cast 'y' to Integer",
    ]
    assert result.errors[0] == EvaluationError(ErrorKind.CAST, "cannot cast 'x' to Integer")


@pytest.mark.parametrize(
    ("source", "matches"),
    [
        ("TRUE", True),
        ("type = 't'", True),
        ("FALSE", False),
        ("'true'", False),
        ("1", False),
        ("type", False),
        ("missing = 'x' OR TRUE", False),
        ("NOT (missing = 'x')", False),
        ("TRUE OR missing = 'x'", True),
        ("LEFT('ab', -1) = 'ab'", False),
        ("ABS(-2147483648) > 0", False),
        ("NOPE() OR TRUE", False),
    ],
)
def test_matches_only_a_boolean_true_without_errors(source: str, matches: bool) -> None:
    assert parse(source).matches(EVENT) is matches


def test_a_syntax_error_carries_the_offending_position() -> None:
    with pytest.raises(CesqlSyntaxError) as raised:
        parse("type = 'a' AND (source = 'b'))")
    assert str(raised.value) == "cesql: unexpected token ')' at 1:30"
    assert raised.value.position == 29


FRAGMENTS = [
    "type", "id", "missing", "count", "flag", "1", "0", "-3", "2147483647", "'a'", "'%'",
    '"b"', "TRUE", "false", "AND", "OR", "XOR", "NOT", "=", "!=", "<>", "<", "<=", ">", ">=",
    "+", "-", "*", "/", "%", "(", ")", ",", "LIKE", "'a%'", "IN", "EXISTS", "LENGTH(",
    "CONCAT(", "SUBSTRING(", "ABS(", "INT(", "BOOL(", "LEFT(", "NOPE(", "'\\''",
]  # fmt: skip
FUZZ_EVENT: dict[str, Value] = {**EVENT, "count": "7", "flag": True}


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12))
def test_any_parseable_expression_evaluates_to_a_value_without_raising(
    fragments: list[str],
) -> None:
    try:
        expression = parse(" ".join(fragments))
    except CesqlSyntaxError:
        return
    result = expression.evaluate(FUZZ_EVENT)
    assert type(result.value) in (str, int, bool)
    if type(result.value) is int:
        assert -(2**31) <= result.value < 2**31
    assert expression.matches(FUZZ_EVENT) is (result.value is True and result.ok)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_parse_rejects_arbitrary_text_only_with_a_syntax_error(text: str) -> None:
    try:
        parse(text)
    except CesqlSyntaxError as error:
        assert 0 <= error.position <= len(text)
        assert error.message.startswith("cesql: ")
