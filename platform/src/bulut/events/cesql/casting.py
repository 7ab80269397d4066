"""The CESQL type system: Boolean, Integer (32-bit) and String, and the casts between them.

Values are plain Python ``bool``, ``int`` and ``str``. Casts follow CloudEvents SQL 1.0 §3.7;
a cast that cannot succeed records a ``cast`` error and yields the target type's zero value.
"""

from __future__ import annotations

import enum
import re
from typing import TypeAlias

from bulut.events.cesql.errors import ErrorKind, EvaluationError

Value: TypeAlias = str | int | bool

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+", re.ASCII)


class Type(enum.Enum):
    """A CESQL type; ``ANY`` is only used for function parameters that take every type."""

    BOOLEAN = "Boolean"
    INTEGER = "Integer"
    STRING = "String"
    ANY = "Any"


ZERO: dict[Type, Value] = {Type.BOOLEAN: False, Type.INTEGER: 0, Type.STRING: "", Type.ANY: False}


def type_of(value: Value) -> Type:
    """The CESQL type of a Python value."""
    if isinstance(value, bool):
        return Type.BOOLEAN
    if isinstance(value, int):
        return Type.INTEGER
    return Type.STRING


def in_int32(number: int) -> bool:
    """Whether ``number`` fits a signed 32-bit integer."""
    return INT32_MIN <= number <= INT32_MAX


def wrap_int32(number: int) -> int:
    """``number`` reduced to 32 bits, two's complement (what a 32-bit engine computes)."""
    return ((number - INT32_MIN) % 2**32) + INT32_MIN


def parse_integer(text: str) -> int | None:
    """The optionally signed base-10 32-bit integer ``text`` spells, else ``None``."""
    if _INTEGER_TEXT.fullmatch(text) is None:
        return None
    number = int(text)
    return number if in_int32(number) else None


def parse_boolean(text: str) -> bool | None:
    """``True``/``False`` for ``"true"``/``"false"`` in any case; ``None`` otherwise."""
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    return None


def to_string(value: Value) -> str:
    """Cast to String: integers in base 10, booleans as ``"true"``/``"false"``; never fails."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return value


def to_integer(value: Value, errors: list[EvaluationError]) -> int:
    """Cast to Integer; a string that is not a 32-bit integer records a cast error and yields 0."""
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int):
        return value
    number = parse_integer(value)
    if number is None:
        errors.append(EvaluationError(ErrorKind.CAST, f"cannot cast {value!r} to Integer"))
        return 0
    return number


def to_boolean(value: Value, errors: list[EvaluationError]) -> bool:
    """Cast to Boolean; a string other than true/false records a cast error and yields false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    flag = parse_boolean(value)
    if flag is None:
        errors.append(EvaluationError(ErrorKind.CAST, f"cannot cast {value!r} to Boolean"))
        return False
    return flag


def cast(value: Value, target: Type, errors: list[EvaluationError]) -> Value:
    """Cast ``value`` to ``target`` (``ANY`` leaves it unchanged)."""
    if target is Type.STRING:
        return to_string(value)
    if target is Type.INTEGER:
        return to_integer(value, errors)
    if target is Type.BOOLEAN:
        return to_boolean(value, errors)
    return value
