"""A hand-written precedence-climbing parser for CloudEvents SQL 1.0.

Precedence, highest first, as the spec's reference grammar (CESQLParser.g4) orders it:
function calls and parentheses; unary ``NOT`` and ``-``; ``[NOT] LIKE``; ``EXISTS``;
``[NOT] IN``; ``* / %``; ``+ -``; comparisons; ``AND OR XOR``. Binary operators group left
to right, except the logical ones, which share one level and group right to left as the
reference grammar (and so Knative, through sdk-go) parses them. See docs/adr/0007-cesql.md.
"""

from __future__ import annotations

import re

from bulut.events.cesql import nodes
from bulut.events.cesql.casting import INT32_MAX, INT32_MIN
from bulut.events.cesql.errors import CesqlSyntaxError
from bulut.events.cesql.lexer import Token, TokenKind, syntax_error, tokenize

MAX_DEPTH = 200
"""Deepest syntax tree accepted; deeper expressions are rejected rather than risking the stack."""

_LOGICAL, _COMPARISON, _ADDITIVE, _MULTIPLICATIVE, _IN, _LIKE = range(1, 7)

_BINARY: dict[str, int] = {
    "AND": _LOGICAL,
    "OR": _LOGICAL,
    "XOR": _LOGICAL,
    "=": _COMPARISON,
    "!=": _COMPARISON,
    "<>": _COMPARISON,
    "<": _COMPARISON,
    "<=": _COMPARISON,
    ">": _COMPARISON,
    ">=": _COMPARISON,
    "+": _ADDITIVE,
    "-": _ADDITIVE,
    "*": _MULTIPLICATIVE,
    "/": _MULTIPLICATIVE,
    "%": _MULTIPLICATIVE,
}

_IDENTIFIER = re.compile(r"[a-zA-Z0-9]+")
_FUNCTION_NAME = re.compile(r"[a-zA-Z][a-zA-Z_]*")


def parse_tree(source: str) -> nodes.Node:
    """The syntax tree of ``source``; raises :class:`CesqlSyntaxError` with the position."""
    return _Parser(source).parse()


class _Parser:
    def __init__(self, source: str) -> None:
        self._source = source
        self._tokens = tokenize(source)
        self._index = 0
        self._nesting = 0

    def parse(self) -> nodes.Node:
        if self._peek().kind is TokenKind.END:
            raise self._error("empty expression", self._peek().position)
        tree = self._expression(_LOGICAL)
        end = self._peek()
        if end.kind is not TokenKind.END:
            raise self._unexpected(end)
        return tree

    # -- precedence climbing -------------------------------------------------

    def _expression(self, minimum: int) -> nodes.Node:
        self._nesting += 1
        if self._nesting > MAX_DEPTH:
            raise self._error("expression nested too deeply", self._peek().position)
        left = self._unary()
        while True:
            token = self._peek()
            operator = self._operator_of(token)
            if operator in ("LIKE", "NOT LIKE") and minimum <= _LIKE:
                left = self._like(left, negated=operator == "NOT LIKE")
            elif operator in ("IN", "NOT IN") and minimum <= _IN:
                left = self._in(left, negated=operator == "NOT IN")
            elif operator in _BINARY and _BINARY[operator] >= minimum:
                self._advance()
                precedence = _BINARY[operator]
                right_minimum = precedence if precedence == _LOGICAL else precedence + 1
                right = self._expression(right_minimum)
                left = self._checked(nodes.Binary(operator, left, right, token.position))
            else:
                break
        self._nesting -= 1
        return left

    def _operator_of(self, token: Token) -> str | None:
        if token.kind is TokenKind.OPERATOR:
            return token.value
        if token.kind is not TokenKind.KEYWORD:
            return None
        if token.value == "NOT":
            following = self._peek(1)
            if following.kind is TokenKind.KEYWORD and following.value in ("LIKE", "IN"):
                return f"NOT {following.value}"
            return None
        return token.value if token.value in ("AND", "OR", "XOR", "LIKE", "IN") else None

    def _unary(self) -> nodes.Node:
        token = self._peek()
        if token.kind is TokenKind.KEYWORD and token.value == "NOT":
            self._advance()
            return self._checked(nodes.Not(self._nested_unary(), token.position))
        if token.kind is TokenKind.OPERATOR and token.value in ("-", "+"):
            following = self._peek(1)
            if following.kind is TokenKind.INTEGER:
                self._advance()
                self._advance()
                return self._integer(following, negative=token.value == "-", start=token.position)
            if token.value == "-":
                self._advance()
                return self._checked(nodes.Negate(self._nested_unary(), token.position))
        return self._primary()

    def _nested_unary(self) -> nodes.Node:
        self._nesting += 1
        if self._nesting > MAX_DEPTH:
            raise self._error("expression nested too deeply", self._peek().position)
        operand = self._unary()
        self._nesting -= 1
        return operand

    def _primary(self) -> nodes.Node:
        token = self._advance()
        if token.kind is TokenKind.INTEGER:
            return self._integer(token, negative=False, start=token.position)
        if token.kind is TokenKind.STRING:
            return nodes.Literal(token.value, token.position)
        if token.kind is TokenKind.KEYWORD and token.value in ("TRUE", "FALSE"):
            return nodes.Literal(token.value == "TRUE", token.position)
        if token.kind is TokenKind.KEYWORD and token.value == "EXISTS":
            name = self._advance()
            if name.kind is not TokenKind.NAME:
                raise self._error(
                    f"EXISTS needs an attribute name, found {_show(name)}", name.position
                )
            return nodes.Exists(self._identifier_name(name), token.position)
        if token.kind is TokenKind.LPAREN:
            inner = self._expression(_LOGICAL)
            self._expect(TokenKind.RPAREN)
            return inner
        if token.kind is TokenKind.NAME:
            if self._peek().kind is TokenKind.LPAREN:
                return self._call(token)
            return nodes.Identifier(self._identifier_name(token), token.position)
        raise self._unexpected(token)

    # -- pieces ----------------------------------------------------------------

    def _integer(self, token: Token, *, negative: bool, start: int) -> nodes.Literal:
        number = -int(token.value) if negative else int(token.value)
        if not INT32_MIN <= number <= INT32_MAX:
            raise self._error(f"integer literal {number} is out of the 32-bit range", start)
        return nodes.Literal(number, start)

    def _identifier_name(self, token: Token) -> str:
        if _IDENTIFIER.fullmatch(token.text) is None:
            raise self._error(f"invalid attribute name {token.text!r}", token.position)
        return token.text.lower()

    def _call(self, name: Token) -> nodes.Node:
        if _FUNCTION_NAME.fullmatch(name.text) is None:
            raise self._error(f"invalid function name {name.text!r}", name.position)
        self._expect(TokenKind.LPAREN)
        arguments: list[nodes.Node] = []
        if self._peek().kind is not TokenKind.RPAREN:
            arguments.append(self._expression(_LOGICAL))
            while self._peek().kind is TokenKind.COMMA:
                self._advance()
                arguments.append(self._expression(_LOGICAL))
        self._expect(TokenKind.RPAREN)
        return self._checked(nodes.Call(name.text.upper(), tuple(arguments), name.position))

    def _like(self, operand: nodes.Node, *, negated: bool) -> nodes.Node:
        start = self._advance().position
        if negated:
            self._advance()
        pattern = self._advance()
        if pattern.kind is not TokenKind.STRING:
            raise self._error(
                f"LIKE pattern must be a string literal, found {_show(pattern)}", pattern.position
            )
        return self._checked(nodes.Like(operand, pattern.value, negated, start))

    def _in(self, operand: nodes.Node, *, negated: bool) -> nodes.Node:
        start = self._advance().position
        if negated:
            self._advance()
        self._expect(TokenKind.LPAREN)
        if self._peek().kind is TokenKind.RPAREN:
            raise self._error("IN needs at least one value", self._peek().position)
        items = [self._expression(_LOGICAL)]
        while self._peek().kind is TokenKind.COMMA:
            self._advance()
            items.append(self._expression(_LOGICAL))
        self._expect(TokenKind.RPAREN)
        return self._checked(nodes.In(operand, tuple(items), negated, start))

    # -- token plumbing --------------------------------------------------------

    def _checked(self, node: nodes.Node) -> nodes.Node:
        if node.depth > MAX_DEPTH:
            raise self._error("expression nested too deeply", node.position)
        return node

    def _peek(self, ahead: int = 0) -> Token:
        return self._tokens[min(self._index + ahead, len(self._tokens) - 1)]

    def _advance(self) -> Token:
        token = self._peek()
        if token.kind is not TokenKind.END:
            self._index += 1
        return token

    def _expect(self, kind: TokenKind) -> Token:
        token = self._advance()
        if token.kind is not kind:
            raise self._error(f"expected '{kind.value}', found {_show(token)}", token.position)
        return token

    def _unexpected(self, token: Token) -> CesqlSyntaxError:
        if token.kind is TokenKind.END:
            return self._error("unexpected end of expression", token.position)
        return self._error(f"unexpected token {token.text!r}", token.position)

    def _error(self, message: str, position: int) -> CesqlSyntaxError:
        return syntax_error(self._source, message, position)


def _show(token: Token) -> str:
    return "end of expression" if token.kind is TokenKind.END else repr(token.text)
