"""The built-in CESQL functions (CloudEvents SQL 1.0 §3.5 and the TCK's casting functions).

Each function is looked up by upper-case name and arity. Its arguments arrive already cast
to the declared parameter types; a failure inside the function records an error and returns
the value the spec prescribes for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bulut.events.cesql.casting import (
    INT32_MIN,
    Type,
    Value,
    parse_boolean,
    parse_integer,
    to_boolean,
    to_integer,
    to_string,
)
from bulut.events.cesql.errors import ErrorKind, EvaluationError

Body = Callable[[Sequence[Value], list[EvaluationError]], Value]

# Unicode White_Space (TRIM must not strip the control characters str.strip() also strips).
UNICODE_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


@dataclass(frozen=True, slots=True)
class Function:
    """A built-in: fixed parameter types, an optional variadic tail type, and a return type."""

    name: str
    parameters: tuple[Type, ...]
    returns: Type
    body: Body
    variadic: Type | None = None

    def accepts(self, arity: int) -> bool:
        """Whether a call with ``arity`` arguments dispatches to this definition."""
        fixed = len(self.parameters)
        return arity >= fixed if self.variadic is not None else arity == fixed

    def parameter_type(self, index: int) -> Type:
        """The type argument ``index`` is cast to."""
        if index < len(self.parameters):
            return self.parameters[index]
        assert self.variadic is not None
        return self.variadic


def resolve(name: str, arity: int) -> Function | None:
    """The built-in ``name`` (upper-case) callable with ``arity`` arguments, if any."""
    for function in BUILTINS.get(name, ()):
        if function.accepts(arity):
            return function
    return None


def _function_error(errors: list[EvaluationError], message: str) -> None:
    errors.append(EvaluationError(ErrorKind.FUNCTION_EVALUATION, message))


def _left(args: Sequence[Value], errors: list[EvaluationError]) -> Value:
    text, count = str(args[0]), int(args[1])
    if count < 0:
        _function_error(errors, f"LEFT: length {count} is negative")
        return text
    return text[:count]


def _right(args: Sequence[Value], errors: list[EvaluationError]) -> Value:
    text, count = str(args[0]), int(args[1])
    if count < 0:
        _function_error(errors, f"RIGHT: length {count} is negative")
        return text
    return text[len(text) - count :] if count < len(text) else text


def _substring(args: Sequence[Value], errors: list[EvaluationError]) -> Value:
    text, position = str(args[0]), int(args[1])
    length = int(args[2]) if len(args) > 2 else None
    size = len(text)
    if position > size or position < -size:
        _function_error(errors, f"SUBSTRING: position {position} is outside a string of {size}")
        return ""
    if length is not None and length < 0:
        _function_error(errors, f"SUBSTRING: length {length} is negative")
        return ""
    if position == 0:
        return ""
    start = position - 1 if position > 0 else size + position
    return text[start:] if length is None else text[start : start + length]


def _abs(args: Sequence[Value], errors: list[EvaluationError]) -> Value:
    number = int(args[0])
    if number == INT32_MIN:
        errors.append(EvaluationError(ErrorKind.MATH, "ABS: -2147483648 has no 32-bit absolute"))
        return 2**31 - 1
    return abs(number)


def _is_int(args: Sequence[Value], errors: list[EvaluationError]) -> Value:
    value = args[0]
    return not isinstance(value, str) or parse_integer(value) is not None


def _is_bool(args: Sequence[Value], errors: list[EvaluationError]) -> Value:
    value = args[0]
    return not isinstance(value, str) or parse_boolean(value) is not None


def _define(*functions: Function) -> dict[str, tuple[Function, ...]]:
    table: dict[str, tuple[Function, ...]] = {}
    for function in functions:
        table[function.name] = (*table.get(function.name, ()), function)
    return table


_S, _I, _B, _A = Type.STRING, Type.INTEGER, Type.BOOLEAN, Type.ANY

BUILTINS: dict[str, tuple[Function, ...]] = _define(
    Function("LENGTH", (_S,), _I, lambda a, e: len(str(a[0]))),
    Function("CONCAT", (), _S, lambda a, e: "".join(map(str, a)), variadic=_S),
    Function("CONCAT_WS", (_S,), _S, lambda a, e: str(a[0]).join(map(str, a[1:])), variadic=_S),
    Function("LOWER", (_S,), _S, lambda a, e: str(a[0]).lower()),
    Function("UPPER", (_S,), _S, lambda a, e: str(a[0]).upper()),
    Function("TRIM", (_S,), _S, lambda a, e: str(a[0]).strip(UNICODE_WHITESPACE)),
    Function("LEFT", (_S, _I), _S, _left),
    Function("RIGHT", (_S, _I), _S, _right),
    Function("SUBSTRING", (_S, _I), _S, _substring),
    Function("SUBSTRING", (_S, _I, _I), _S, _substring),
    Function("ABS", (_I,), _I, _abs),
    Function("INT", (_A,), _I, lambda a, e: to_integer(a[0], e)),
    Function("BOOL", (_A,), _B, lambda a, e: to_boolean(a[0], e)),
    Function("STRING", (_A,), _S, lambda a, e: to_string(a[0])),
    Function("IS_INT", (_A,), _B, _is_int),
    Function("IS_BOOL", (_A,), _B, _is_bool),
)
