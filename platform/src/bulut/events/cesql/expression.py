"""The public face of CESQL: :func:`parse` an expression once, then evaluate it per event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bulut.events.cesql.casting import Value
from bulut.events.cesql.errors import EvaluationError
from bulut.events.cesql.evaluator import Errors, compile_tree
from bulut.events.cesql.parser import parse_tree


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """The value of an expression and the errors met computing it (empty when all went well)."""

    value: Value
    errors: tuple[EvaluationError, ...] = ()

    @property
    def ok(self) -> bool:
        """True when evaluation raised no error."""
        return not self.errors


class Expression:
    """A parsed CloudEvents SQL 1.0 expression, compiled for repeated evaluation.

    ``event`` maps context attribute and extension names (lower case) to their values as
    the codec produces them: ``str``, ``int`` or ``bool``.
    """

    __slots__ = ("_evaluate", "source")

    def __init__(self, source: str) -> None:
        """Parse and compile ``source``; raises :class:`CesqlSyntaxError`."""
        self.source = source
        self._evaluate = compile_tree(parse_tree(source))

    def evaluate(self, event: Mapping[str, Value]) -> EvaluationResult:
        """The value of the expression for ``event``, with every evaluation error."""
        errors: Errors = []
        value = self._evaluate(event, errors)
        return EvaluationResult(value, tuple(errors))

    def matches(self, event: Mapping[str, Value]) -> bool:
        """Whether ``event`` passes this expression as a filter.

        Knative's rule (and the spec's §1.2): the value must be Boolean ``true`` and no
        error may have occurred.
        """
        errors: Errors = []
        return self._evaluate(event, errors) is True and not errors

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


def parse(expression: str) -> Expression:
    """Parse a CESQL expression; raises :class:`CesqlSyntaxError` naming line and column."""
    return Expression(expression)
