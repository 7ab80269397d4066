"""What can go wrong with a CESQL expression: syntax errors and evaluation errors.

A syntax error is raised (the expression cannot be used at all). Evaluation errors are
*values*: CESQL is total, so an evaluation always yields a result together with the list
of errors met on the way (CloudEvents SQL 1.0 §3.3).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bulut.errors import InvalidResourceError


class CesqlSyntaxError(InvalidResourceError):
    """An expression that does not parse; ``position`` is the 0-based offset of the problem.

    The message names line and column (1-based), e.g.
    ``cesql: unexpected token ')' at 1:14``.
    """

    def __init__(
        self,
        message: str,
        *,
        position: int,
        line: int,
        column: int,
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field)
        self.position = position
        self.line = line
        self.column = column


class ErrorKind(enum.StrEnum):
    """The error types every CESQL engine supports (§3.3), named as in the spec's TCK."""

    PARSE = "parse"
    MATH = "math"
    CAST = "cast"
    MISSING_ATTRIBUTE = "missingAttribute"
    MISSING_FUNCTION = "missingFunction"
    FUNCTION_EVALUATION = "functionEvaluation"
    GENERIC = "generic"


@dataclass(frozen=True, slots=True)
class EvaluationError:
    """One error met while evaluating an expression."""

    kind: ErrorKind
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"
