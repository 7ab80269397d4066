"""Parsing CESQL into a syntax tree: precedence, grouping and syntax errors."""

from __future__ import annotations

import pytest

from bulut.errors import InvalidResourceError
from bulut.events.cesql import nodes
from bulut.events.cesql.errors import CesqlSyntaxError
from bulut.events.cesql.parser import MAX_DEPTH, parse_tree


def show(node: nodes.Node) -> str:
    """A compact, fully parenthesised rendering of a tree."""
    if isinstance(node, nodes.Literal):
        return repr(node.value)
    if isinstance(node, nodes.Identifier):
        return node.name
    if isinstance(node, nodes.Exists):
        return f"(EXISTS {node.name})"
    if isinstance(node, nodes.Not):
        return f"(NOT {show(node.operand)})"
    if isinstance(node, nodes.Negate):
        return f"(- {show(node.operand)})"
    if isinstance(node, nodes.Like):
        return f"({show(node.operand)} {'NOT ' * node.negated}LIKE {node.pattern!r})"
    if isinstance(node, nodes.In):
        items = ", ".join(show(item) for item in node.items)
        return f"({show(node.operand)} {'NOT ' * node.negated}IN [{items}])"
    if isinstance(node, nodes.Call):
        return f"{node.name}({', '.join(show(arg) for arg in node.arguments)})"
    return f"({show(node.left)} {node.operator} {show(node.right)})"


@pytest.mark.parametrize(
    ("source", "tree"),
    [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("8 / 4 % 3", "((8 / 4) % 3)"),
        ("a + 1 = b * 2", "((a + 1) = (b * 2))"),
        ("a < b = TRUE", "((a < b) = True)"),
        ("NOT a = b", "((NOT a) = b)"),
        ("NOT NOT a", "(NOT (NOT a))"),
        ("-a * b", "((- a) * b)"),
        ("- -a", "(- (- a))"),
        ("-5", "-5"),
        ("- 5", "-5"),
        ("+5", "5"),
        ("--10", "(- -10)"),
        ("5 -3", "(5 - 3)"),
        ("-2147483648", "-2147483648"),
        ("a OR b AND c", "(a OR (b AND c))"),
        ("a AND b OR c", "(a AND (b OR c))"),
        ("a XOR b XOR c", "(a XOR (b XOR c))"),
        ("(a AND b) OR c", "((a AND b) OR c)"),
        ("a LIKE 'x%' AND b", "((a LIKE 'x%') AND b)"),
        ("a NOT LIKE 'x'", "(a NOT LIKE 'x')"),
        ("NOT a LIKE 'x'", "((NOT a) LIKE 'x')"),
        ("1 + 2 IN (3)", "(1 + (2 IN [3]))"),
        ("a NOT IN (1, 'b', c)", "(a NOT IN [1, 'b', c])"),
        ("a IN (1) = TRUE", "((a IN [1]) = True)"),
        ("a LIKE 'x' IN (TRUE)", "((a LIKE 'x') IN [True])"),
        ("EXISTS subject AND NOT EXISTS x", "((EXISTS subject) AND (NOT (EXISTS x)))"),
        ("concat_ws(',', a, LOWER(B))", "CONCAT_WS(',', a, LOWER(b))"),
        ("length()", "LENGTH()"),
        ("ID = 'x'", "(id = 'x')"),
        ("ext1 = 1abc", "(ext1 = 1abc)"),
        ("TrUe = fAlSe", "(True = False)"),
        ("  (\n (1)\t) ", "1"),
    ],
)
def test_parses_with_the_reference_grammars_precedence(source: str, tree: str) -> None:
    assert show(parse_tree(source)) == tree


@pytest.mark.parametrize(
    ("source", "message", "position"),
    [
        ("", "cesql: empty expression at 1:1", 0),
        ("   ", "cesql: empty expression at 1:4", 3),
        ("(1 + 2", "cesql: expected ')', found end of expression at 1:7", 6),
        ("a = )", "cesql: unexpected token ')' at 1:5", 4),
        ("(a = 'x') AND b)", "cesql: unexpected token ')' at 1:16", 15),
        ("1 2", "cesql: unexpected token '2' at 1:3", 2),
        ("TRUE AND", "cesql: unexpected end of expression at 1:9", 8),
        ("a =\n  = 1", "cesql: unexpected token '=' at 2:3", 6),
        ("a LIKE b", "cesql: LIKE pattern must be a string literal, found 'b' at 1:8", 7),
        ("x LIKE 123", "cesql: LIKE pattern must be a string literal, found '123' at 1:8", 7),
        ("a IN ()", "cesql: IN needs at least one value at 1:7", 6),
        ("a IN 1", "cesql: expected '(', found '1' at 1:6", 5),
        ("EXISTS 1", "cesql: EXISTS needs an attribute name, found '1' at 1:8", 7),
        ("EXISTS", "cesql: EXISTS needs an attribute name, found end of expression at 1:7", 6),
        ("my_ext = 1", "cesql: invalid attribute name 'my_ext' at 1:1", 0),
        ("1abc(2)", "cesql: invalid function name '1abc' at 1:1", 0),
        ("LOWER('a'", "cesql: expected ')', found end of expression at 1:10", 9),
        ("LOWER('a',)", "cesql: unexpected token ')' at 1:11", 10),
        ("2147483648", "cesql: integer literal 2147483648 is out of the 32-bit range at 1:1", 0),
        ("-2147483649", "cesql: integer literal -2147483649 is out of the 32-bit range at 1:1", 0),
        ("+ a", "cesql: unexpected token '+' at 1:1", 0),
        ("'a' 'b'", "cesql: unexpected token \"'b'\" at 1:5", 4),
        ("'it''s'", "cesql: unexpected token \"'s'\" at 1:5", 4),
        ("NOT", "cesql: unexpected end of expression at 1:4", 3),
    ],
)
def test_syntax_errors_name_line_column_and_offset(
    source: str, message: str, position: int
) -> None:
    with pytest.raises(CesqlSyntaxError) as raised:
        parse_tree(source)
    assert str(raised.value) == message
    assert raised.value.position == position


def test_a_syntax_error_is_an_invalid_resource_error_with_line_and_column() -> None:
    with pytest.raises(InvalidResourceError) as raised:
        parse_tree("a = 1 AND\nb = )")
    error = raised.value
    assert isinstance(error, CesqlSyntaxError)
    assert (error.line, error.column, error.position) == (2, 5, 14)


@pytest.mark.parametrize(
    "source",
    [
        "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1),
        "1" + " + 1" * (MAX_DEPTH + 1),
        "NOT " * (MAX_DEPTH + 1) + "TRUE",
        "a" + " AND a" * (MAX_DEPTH + 1),
        "LOWER(" * (MAX_DEPTH + 1) + "'a'" + ")" * (MAX_DEPTH + 1),
    ],
)
def test_expressions_nested_too_deeply_are_rejected_not_crashing(source: str) -> None:
    with pytest.raises(CesqlSyntaxError, match="nested too deeply"):
        parse_tree(source)


def test_long_but_shallow_expressions_are_accepted() -> None:
    tree = parse_tree("a IN (" + ", ".join(str(n) for n in range(1000)) + ")")
    assert isinstance(tree, nodes.In)
    assert len(tree.items) == 1000
