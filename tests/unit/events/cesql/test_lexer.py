"""Tokens of CESQL source text."""

from __future__ import annotations

import pytest

from bulut.events.cesql.errors import CesqlSyntaxError
from bulut.events.cesql.lexer import TokenKind, tokenize


def kinds_and_values(source: str) -> list[tuple[TokenKind, str]]:
    return [(token.kind, token.value) for token in tokenize(source)]


def test_tokens_carry_their_offset_and_end_with_an_end_token() -> None:
    tokens = tokenize("a <= 10")
    assert [(t.kind, t.position) for t in tokens] == [
        (TokenKind.NAME, 0),
        (TokenKind.OPERATOR, 2),
        (TokenKind.INTEGER, 5),
        (TokenKind.END, 7),
    ]


@pytest.mark.parametrize("word", ["and", "AND", "And", "aNd"])
def test_keywords_are_case_insensitive_and_normalised_to_upper_case(word: str) -> None:
    assert kinds_and_values(word)[0] == (TokenKind.KEYWORD, "AND")


def test_two_character_operators_win_over_their_prefixes() -> None:
    values = [value for _, value in kinds_and_values("!= <> <= >= < > =")][:-1]
    assert values == ["!=", "<>", "<=", ">=", "<", ">", "="]


def test_words_with_underscores_are_names_for_the_parser_to_judge() -> None:
    assert kinds_and_values("CONCAT_WS(")[0] == (TokenKind.NAME, "CONCAT_WS")


def test_a_run_of_digits_is_an_integer_and_a_signed_number_is_two_tokens() -> None:
    assert kinds_and_values("-12")[:2] == [(TokenKind.OPERATOR, "-"), (TokenKind.INTEGER, "12")]


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("'abc'", "abc"),
        ('"abc"', "abc"),
        ("'it\\'s'", "it's"),
        ('"say \\"hi\\""', 'say "hi"'),
        ("'a\"b'", 'a"b'),
        ("'a\\%b'", "a\\%b"),
        ("'a\\\\b'", "a\\\\b"),
        ("''", ""),
        ("'line\nbreak'", "line\nbreak"),
    ],
)
def test_string_literals_unescape_only_their_own_quote(source: str, value: str) -> None:
    assert kinds_and_values(source)[0] == (TokenKind.STRING, value)


@pytest.mark.parametrize(
    ("source", "message", "position"),
    [
        ("'abc", "cesql: unterminated string literal at 1:1", 0),
        ("a = 'x\\'", "cesql: unterminated string literal at 1:5", 4),
        ("a ! b", "cesql: unexpected character '!' at 1:3", 2),
        ("a = 1\nAND b # 2", "cesql: unexpected character '#' at 2:7", 12),
        ("é", "cesql: unexpected character 'é' at 1:1", 0),
    ],
)
def test_bad_characters_are_reported_with_line_and_column(
    source: str, message: str, position: int
) -> None:
    with pytest.raises(CesqlSyntaxError) as raised:
        tokenize(source)
    assert str(raised.value) == message
    assert raised.value.position == position
