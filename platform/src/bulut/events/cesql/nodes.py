"""The syntax tree of a CESQL expression.

Nodes are immutable and carry the 0-based ``position`` of the source text they came from and
their ``depth`` (the height of the subtree), which the parser bounds so evaluation never
exhausts the Python stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from bulut.events.cesql.casting import Value


def _height(*children: Node) -> int:
    return 1 + max((child.depth for child in children), default=0)


@dataclass(frozen=True, slots=True)
class Literal:
    """A Boolean, Integer or String literal."""

    value: Value
    position: int
    depth: int = field(default=1, init=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Identifier:
    """A context attribute or extension, by its (lower-case) name."""

    name: str
    position: int
    depth: int = field(default=1, init=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Exists:
    """``EXISTS name``."""

    name: str
    position: int
    depth: int = field(default=1, init=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Not:
    """``NOT operand``."""

    operand: Node
    position: int
    depth: int = field(default=1, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "depth", _height(self.operand))


@dataclass(frozen=True, slots=True)
class Negate:
    """Unary minus."""

    operand: Node
    position: int
    depth: int = field(default=1, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "depth", _height(self.operand))


@dataclass(frozen=True, slots=True)
class Binary:
    """``left <operator> right``; ``operator`` is upper-case (``AND``, ``<>``, ``%``...)."""

    operator: str
    left: Node
    right: Node
    position: int
    depth: int = field(default=1, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "depth", _height(self.left, self.right))


@dataclass(frozen=True, slots=True)
class Like:
    """``operand [NOT] LIKE 'pattern'`` (the pattern is always a string literal)."""

    operand: Node
    pattern: str
    negated: bool
    position: int
    depth: int = field(default=1, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "depth", _height(self.operand))


@dataclass(frozen=True, slots=True)
class In:
    """``operand [NOT] IN (item, ...)`` with at least one item."""

    operand: Node
    items: tuple[Node, ...]
    negated: bool
    position: int
    depth: int = field(default=1, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "depth", _height(self.operand, *self.items))


@dataclass(frozen=True, slots=True)
class Call:
    """A function invocation; ``name`` is upper-case."""

    name: str
    arguments: tuple[Node, ...]
    position: int
    depth: int = field(default=1, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "depth", _height(*self.arguments))


Node: TypeAlias = Literal | Identifier | Exists | Not | Negate | Binary | Like | In | Call
