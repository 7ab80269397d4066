"""CloudEvents SQL (CESQL) 1.0: parse an expression once, evaluate it against many events.

    >>> expression = parse("type LIKE 'com.example.%' AND INT(priority) > 3")
    >>> expression.matches({"type": "com.example.order", "priority": "5"})
    True

See docs/adr/0007-cesql.md for the choices made where the spec leaves room.
"""

from bulut.events.cesql.casting import Value
from bulut.events.cesql.errors import CesqlSyntaxError, ErrorKind, EvaluationError
from bulut.events.cesql.expression import EvaluationResult, Expression, parse

__all__ = [
    "CesqlSyntaxError",
    "ErrorKind",
    "EvaluationError",
    "EvaluationResult",
    "Expression",
    "Value",
    "parse",
]
