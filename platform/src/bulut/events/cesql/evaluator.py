"""Compile a syntax tree into nested closures that evaluate it against an event.

Every closure takes the event's attributes and the error list, and returns a value.
Error semantics (CloudEvents SQL 1.0 §3.2-3.3, and the TCK):

- An operator or function that fails by itself (division by zero, ABS overflow, a bad
  SUBSTRING position...) records its error and returns the value the spec prescribes.
- An implicit cast that fails records a ``cast`` error; the operand becomes the target
  type's zero value and the operator carries on.
- An operator or function whose operand produced an error evaluates no further operand and
  does not compute: it returns the zero value of its own return type, so the error surfaces
  unchanged to the top.
- A missing attribute records ``missingAttribute`` and yields ``false`` (its type is unknown).
- ``AND`` and ``OR`` short-circuit; a skipped operand cannot produce errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bulut.events.cesql import nodes
from bulut.events.cesql.casting import (
    ZERO,
    Type,
    Value,
    cast,
    in_int32,
    to_boolean,
    to_integer,
    to_string,
    wrap_int32,
)
from bulut.events.cesql.errors import ErrorKind, EvaluationError
from bulut.events.cesql.functions import resolve
from bulut.events.cesql.like import compile_like

Attributes = Mapping[str, Value]
Errors = list[EvaluationError]
Evaluator = Callable[[Attributes, Errors], Value]

REQUIRED_ATTRIBUTES = frozenset({"id", "source", "specversion", "type"})


def compile_tree(node: nodes.Node) -> Evaluator:
    """The evaluator for ``node`` (the tree was depth-checked by the parser)."""
    if isinstance(node, nodes.Literal):
        return _literal(node.value)
    if isinstance(node, nodes.Identifier):
        return _identifier(node.name)
    if isinstance(node, nodes.Exists):
        return _exists(node.name)
    if isinstance(node, nodes.Not):
        return _not(compile_tree(node.operand))
    if isinstance(node, nodes.Negate):
        return _negate(compile_tree(node.operand))
    if isinstance(node, nodes.Like):
        return _like(compile_tree(node.operand), node.pattern, node.negated)
    if isinstance(node, nodes.In):
        items = tuple(compile_tree(item) for item in node.items)
        return _in(compile_tree(node.operand), items, node.negated)
    if isinstance(node, nodes.Call):
        return _call(node.name, tuple(compile_tree(argument) for argument in node.arguments))
    return _binary(node.operator, compile_tree(node.left), compile_tree(node.right))


def _literal(value: Value) -> Evaluator:
    def literal(event: Attributes, errors: Errors) -> Value:
        return value

    return literal


def _identifier(name: str) -> Evaluator:
    def identifier(event: Attributes, errors: Errors) -> Value:
        value = event.get(name)
        if value is None:  # absent (or explicitly unset) attribute
            errors.append(
                EvaluationError(ErrorKind.MISSING_ATTRIBUTE, f"missing attribute {name!r}")
            )
            return False
        return value

    return identifier


def _exists(name: str) -> Evaluator:
    if name in REQUIRED_ATTRIBUTES:
        return _literal(True)

    def exists(event: Attributes, errors: Errors) -> Value:
        return name in event

    return exists


def _not(operand: Evaluator) -> Evaluator:
    def not_(event: Attributes, errors: Errors) -> Value:
        mark = len(errors)
        value = operand(event, errors)
        if len(errors) != mark:
            return False
        return not to_boolean(value, errors)

    return not_


def _negate(operand: Evaluator) -> Evaluator:
    def negate(event: Attributes, errors: Errors) -> Value:
        mark = len(errors)
        value = operand(event, errors)
        if len(errors) != mark:
            return 0
        return _checked_int32(-to_integer(value, errors), errors)

    return negate


def _like(operand: Evaluator, pattern: str, negated: bool) -> Evaluator:
    match = compile_like(pattern).fullmatch

    def like(event: Attributes, errors: Errors) -> Value:
        mark = len(errors)
        value = operand(event, errors)
        if len(errors) != mark:
            return False
        return (match(to_string(value)) is not None) is not negated

    return like


def _in(operand: Evaluator, items: tuple[Evaluator, ...], negated: bool) -> Evaluator:
    def in_(event: Attributes, errors: Errors) -> Value:
        mark = len(errors)
        value = operand(event, errors)
        if len(errors) != mark:
            return False
        target = _type_of(value)
        for item in items:
            before = len(errors)
            candidate = item(event, errors)
            if len(errors) != before:
                return False
            if cast(candidate, target, errors) == value:
                return not negated
        return negated

    return in_


def _call(name: str, arguments: tuple[Evaluator, ...]) -> Evaluator:
    function = resolve(name, len(arguments))
    if function is None:
        message = f"no function {name} taking {len(arguments)} argument(s)"

        def missing(event: Attributes, errors: Errors) -> Value:
            errors.append(EvaluationError(ErrorKind.MISSING_FUNCTION, message))
            return False

        return missing
    zero = ZERO[function.returns]
    types = tuple(function.parameter_type(index) for index in range(len(arguments)))
    body = function.body

    def call(event: Attributes, errors: Errors) -> Value:
        mark = len(errors)
        values: list[Value] = []
        for argument in arguments:
            values.append(argument(event, errors))
            if len(errors) != mark:
                return zero
        return body([cast(v, t, errors) for v, t in zip(values, types, strict=True)], errors)

    return call


def _binary(operator: str, left: Evaluator, right: Evaluator) -> Evaluator:
    if operator in ("AND", "OR"):
        return _short_circuit(left, right, stop_on=operator == "OR")
    if operator in ("=", "!=", "<>"):
        return _equality(left, right, negated=operator != "=")
    step = _STEPS[operator]
    zero = ZERO[_RESULT_TYPES.get(operator, Type.INTEGER)]
    convert: Callable[[Value, Errors], int] = to_boolean if operator == "XOR" else to_integer

    def binary(event: Attributes, errors: Errors) -> Value:
        mark = len(errors)
        x = left(event, errors)
        if len(errors) != mark:
            return zero
        y = right(event, errors)
        if len(errors) != mark:
            return zero
        return step(convert(x, errors), convert(y, errors), errors)

    return binary


def _short_circuit(left: Evaluator, right: Evaluator, *, stop_on: bool) -> Evaluator:
    def logical(event: Attributes, errors: Errors) -> Value:
        mark = len(errors)
        x = left(event, errors)
        if len(errors) != mark:
            return False
        if to_boolean(x, errors) is stop_on:
            return stop_on
        mark = len(errors)
        y = right(event, errors)
        if len(errors) != mark:
            return False
        return to_boolean(y, errors)

    return logical


def _equality(left: Evaluator, right: Evaluator, *, negated: bool) -> Evaluator:
    def equality(event: Attributes, errors: Errors) -> Value:
        mark = len(errors)
        x = left(event, errors)
        if len(errors) != mark:
            return False
        y = right(event, errors)
        if len(errors) != mark:
            return False
        return (cast(x, _type_of(y), errors) == y) is not negated

    return equality


def _type_of(value: Value) -> Type:
    if isinstance(value, bool):
        return Type.BOOLEAN
    return Type.INTEGER if isinstance(value, int) else Type.STRING


def _checked_int32(number: int, errors: Errors) -> int:
    if in_int32(number):
        return number
    errors.append(EvaluationError(ErrorKind.MATH, f"{number} overflows a 32-bit integer"))
    return wrap_int32(number)


def _divide(x: int, y: int, errors: Errors) -> Value:
    if y == 0:
        errors.append(EvaluationError(ErrorKind.MATH, "division by zero"))
        return 0
    quotient = abs(x) // abs(y)
    return _checked_int32(-quotient if (x < 0) != (y < 0) else quotient, errors)


def _modulo(x: int, y: int, errors: Errors) -> Value:
    if y == 0:
        errors.append(EvaluationError(ErrorKind.MATH, "modulo by zero"))
        return 0
    remainder = abs(x) % abs(y)
    return -remainder if x < 0 else remainder


_Step = Callable[[int, int, Errors], Value]

_STEPS: dict[str, _Step] = {
    "+": lambda x, y, e: _checked_int32(x + y, e),
    "-": lambda x, y, e: _checked_int32(x - y, e),
    "*": lambda x, y, e: _checked_int32(x * y, e),
    "/": _divide,
    "%": _modulo,
    "<": lambda x, y, e: x < y,
    "<=": lambda x, y, e: x <= y,
    ">": lambda x, y, e: x > y,
    ">=": lambda x, y, e: x >= y,
    "XOR": lambda x, y, e: x != y,
}

_RESULT_TYPES = {
    "<": Type.BOOLEAN,
    "<=": Type.BOOLEAN,
    ">": Type.BOOLEAN,
    ">=": Type.BOOLEAN,
    "XOR": Type.BOOLEAN,
}
