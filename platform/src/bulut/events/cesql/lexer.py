"""Turn CESQL source text into tokens, each with its 0-based offset.

Keywords are case-insensitive. Words are runs of letters, digits and ``_``: a run of digits is
an integer literal, a keyword is a keyword, anything else is a name (an attribute identifier or
a function name; the parser decides which). String literals use ``'`` or ``"``; inside them a
backslash before the delimiting quote escapes it, and any other backslash is kept as written
(so LIKE patterns can carry ``\\%`` and ``\\_``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bulut.events.cesql.errors import CesqlSyntaxError

KEYWORDS = frozenset({"AND", "OR", "XOR", "NOT", "LIKE", "EXISTS", "IN", "TRUE", "FALSE"})

_OPERATORS = ("!=", "<>", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%")
_PUNCTUATION = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA"}
_WHITESPACE = " \t\r\n"


class TokenKind(enum.Enum):
    """The kinds of token the parser sees."""

    INTEGER = "integer"
    STRING = "string"
    NAME = "name"
    KEYWORD = "keyword"
    OPERATOR = "operator"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    """A token: ``text`` as written, ``value`` normalised (upper-case keyword, unescaped string)."""

    kind: TokenKind
    text: str
    value: str
    position: int


def syntax_error(source: str, message: str, position: int) -> CesqlSyntaxError:
    """A :class:`CesqlSyntaxError` whose message ends with ``at <line>:<column>``."""
    line = source.count("\n", 0, position) + 1
    column = position - (source.rfind("\n", 0, position) + 1) + 1
    return CesqlSyntaxError(
        f"cesql: {message} at {line}:{column}", position=position, line=line, column=column
    )


def tokenize(source: str) -> list[Token]:
    """The tokens of ``source``, ending with an ``END`` token; raises :class:`CesqlSyntaxError`."""
    tokens: list[Token] = []
    index, length = 0, len(source)
    while index < length:
        char = source[index]
        if char in _WHITESPACE:
            index += 1
        elif char.isascii() and (char.isalnum() or char == "_"):
            end = index
            while (
                end < length
                and source[end].isascii()
                and (source[end].isalnum() or source[end] == "_")
            ):
                end += 1
            tokens.append(_word(source[index:end], index))
            index = end
        elif char in "'\"":
            token, index = _string(source, index)
            tokens.append(token)
        elif char in _PUNCTUATION:
            tokens.append(Token(TokenKind[_PUNCTUATION[char]], char, char, index))
            index += 1
        else:
            operator = next((op for op in _OPERATORS if source.startswith(op, index)), None)
            if operator is None:
                raise syntax_error(source, f"unexpected character {char!r}", index)
            tokens.append(Token(TokenKind.OPERATOR, operator, operator, index))
            index += len(operator)
    tokens.append(Token(TokenKind.END, "", "", length))
    return tokens


def _word(text: str, position: int) -> Token:
    if text.isdigit():
        return Token(TokenKind.INTEGER, text, text, position)
    upper = text.upper()
    if upper in KEYWORDS:
        return Token(TokenKind.KEYWORD, text, upper, position)
    return Token(TokenKind.NAME, text, text, position)


def _string(source: str, start: int) -> tuple[Token, int]:
    quote = source[start]
    chars: list[str] = []
    index = start + 1
    while index < len(source):
        char = source[index]
        if char == quote:
            return Token(
                TokenKind.STRING, source[start : index + 1], "".join(chars), start
            ), index + 1
        if char == "\\" and index + 1 < len(source):
            following = source[index + 1]
            chars.append(following if following == quote else char + following)
            index += 2
            continue
        chars.append(char)
        index += 1
    raise syntax_error(source, "unterminated string literal", start)
