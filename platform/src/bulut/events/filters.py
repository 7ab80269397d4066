"""Knative Trigger filtering: ``spec.filter.attributes`` and the ``spec.filters`` dialects.

:func:`compile_trigger_filter` validates a Trigger's filters the way Knative's webhook does
and compiles them once into an :class:`EventFilter` whose :meth:`~EventFilter.matches` is
called for every event on the broker's hot path.

Knative's filters are tri-state (Pass, Fail, NoFilter) and an event is delivered unless the
result is Fail. Whether a filter is NoFilter never depends on the event (it is an empty or
unmaterialisable filter), so compilation folds NoFilter away: what remains is a plain
predicate, or nothing at all when every event passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bulut.errors import InvalidResourceError
from bulut.events.cesql.casting import Value, to_string
from bulut.events.cesql.errors import CesqlSyntaxError
from bulut.events.cesql.expression import parse

Attributes = Mapping[str, Value]
Predicate = Callable[[Attributes], bool]

ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9]*")
DIALECTS = ("exact", "prefix", "suffix", "all", "any", "not", "cesql")

_INVALID_NAME = "must start with a lower-case letter and hold only lower-case letters and digits"


class EventFilter:
    """A compiled Trigger filter; :meth:`matches` decides whether an event is delivered.

    ``required_type``: when set, every event the filter matches has exactly this ``type``
    (the filter demands it with an exact match), so a broker may offer the filter only
    the events of that type.
    """

    __slots__ = ("_predicate", "required_type")

    def __init__(self, predicate: Predicate | None, required_type: str | None = None) -> None:
        self._predicate = predicate
        self.required_type = required_type

    @property
    def passes_everything(self) -> bool:
        """True when the Trigger filters nothing (no filter, or only empty ones)."""
        return self._predicate is None

    def matches(self, attributes: Attributes) -> bool:
        """Whether an event with these context attributes and extensions passes the filter."""
        predicate = self._predicate
        return True if predicate is None else predicate(attributes)


def compile_trigger_filter(
    filter_attributes: Mapping[str, str] | None,
    filters: Sequence[Mapping[str, Any]] | None,
    *,
    path: str = "spec",
) -> EventFilter:
    """Validate and compile ``spec.filter.attributes`` and ``spec.filters``.

    A non-empty ``filters`` replaces ``filter`` entirely (both are still validated).
    Raises :class:`InvalidResourceError` naming the offending path, e.g.
    ``spec.filters[1]: multiple dialects found``.
    """
    legacy = _attributes_filter(filter_attributes, f"{path}.filter.attributes")
    legacy_type = (filter_attributes or {}).get("type") or None
    if filters is None:
        return EventFilter(legacy, legacy_type)
    items = _as_list(filters, f"{path}.filters")
    if not items:
        return EventFilter(legacy, legacy_type)
    return EventFilter(
        _all([_element(item, f"{path}.filters[{i}]") for i, item in enumerate(items)]),
        _exact_type(items),
    )


def _exact_type(items: Sequence[object]) -> str | None:
    """The ``type`` a top-level ``exact`` element demands (the elements are all ANDed)."""
    for item in items:
        if isinstance(item, Mapping) and len(item) == 1:
            exact = item.get("exact")
            if isinstance(exact, Mapping) and len(exact) == 1 and "type" in exact:
                return str(exact["type"])
    return None


# -- filter.attributes --------------------------------------------------------------


def _attributes_filter(attributes: Mapping[str, str] | None, path: str) -> Predicate | None:
    if attributes is None:
        return None
    if not isinstance(attributes, Mapping):
        raise _invalid(path, "must be a map of attribute name to value")
    checks: list[Predicate] = []
    for name, expected in attributes.items():
        _check_name(name, f"{path}.{name}")
        if not isinstance(expected, str):
            raise _invalid(f"{path}.{name}", "value must be a string")
        checks.append(_present(name) if expected == "" else _equals(name, expected))
    return _all(checks)


def _present(name: str) -> Predicate:
    read = _reader(name)

    def present(attributes: Attributes) -> bool:
        return bool(read(attributes))

    return present


# -- filters dialects ---------------------------------------------------------------


def _element(element: object, path: str) -> Predicate | None:
    if not isinstance(element, Mapping):
        raise _invalid(path, "must be an object with one dialect")
    unknown = [key for key in element if key not in DIALECTS]
    if unknown:
        raise _invalid(
            path, f"unknown filter dialect {unknown[0]!r} (expected one of {', '.join(DIALECTS)})"
        )
    present = [key for key in DIALECTS if _is_set(key, element.get(key))]
    if len(present) > 1:
        raise _invalid(path, "multiple dialects found, filters can have only one dialect set")
    if not present:
        return None  # an empty element does not materialise: Knative skips it
    dialect = present[0]
    value = element[dialect]
    where = f"{path}.{dialect}"
    if dialect in ("exact", "prefix", "suffix"):
        name, operand = _single_pair(value, where)
        if dialect == "exact":
            return _equals(name, operand)
        return _affix(_reader(name), operand, suffix=dialect == "suffix")
    if dialect in ("all", "any"):
        items = _as_list(value, where)
        children = [_element(child, f"{where}[{i}]") for i, child in enumerate(items)]
        return _all(children) if dialect == "all" else _any(children)
    if dialect == "not":
        inner = _element(value, where)
        return None if inner is None else (lambda attributes: not inner(attributes))
    return _cesql(value, where)


def _is_set(dialect: str, value: object) -> bool:
    if value is None:
        return False
    if dialect == "not":
        return True
    if dialect == "cesql":
        return value != ""
    return not isinstance(value, (Mapping, Sequence)) or len(value) > 0


def _single_pair(value: object, path: str) -> tuple[str, str]:
    if not isinstance(value, Mapping):
        raise _invalid(path, "must be a map of attribute name to value")
    if len(value) != 1:
        raise _invalid(path, "multiple items found, can have only one key-value")
    ((name, operand),) = value.items()
    if not isinstance(name, str) or name == "":
        raise _invalid(path, "attribute name must not be empty")
    _check_name(name, f"{path}.{name}")
    if not isinstance(operand, str) or operand == "":
        raise _invalid(f"{path}.{name}", "value must be a non-empty string")
    return name, operand


def _cesql(value: object, path: str) -> Predicate:
    if not isinstance(value, str):
        raise _invalid(path, "must be a CESQL expression string")
    try:
        expression = parse(value)
    except CesqlSyntaxError as error:
        raise CesqlSyntaxError(
            f"{path}: {error.message}",
            position=error.position,
            line=error.line,
            column=error.column,
            field=path,
        ) from error
    return expression.matches


# -- combinators and attribute access ----------------------------------------------


def _all(children: Sequence[Predicate | None]) -> Predicate | None:
    active = tuple(child for child in children if child is not None)
    if len(active) <= 1:
        return active[0] if active else None
    if len(active) == 2:
        first, second = active
        return lambda attributes: first(attributes) and second(attributes)

    def all_(attributes: Attributes) -> bool:
        # A plain loop: all() over a generator costs several times more on this hot path.
        for check in active:  # noqa: SIM110
            if not check(attributes):
                return False
        return True

    return all_


def _any(children: Sequence[Predicate | None]) -> Predicate | None:
    active = tuple(child for child in children if child is not None)
    if len(active) <= 1:
        return active[0] if active else None
    if len(active) == 2:
        first, second = active
        return lambda attributes: first(attributes) or second(attributes)

    def any_(attributes: Attributes) -> bool:
        for check in active:  # noqa: SIM110
            if check(attributes):
                return True
        return False

    return any_


def _equals(name: str, expected: str) -> Predicate:
    if name in _DERIVED:
        read = _reader(name)
        return lambda attributes: read(attributes) == expected

    def equals(attributes: Attributes) -> bool:
        value = attributes.get(name)
        if value is None:
            return False
        return value == expected if type(value) is str else to_string(value) == expected

    return equals


Reader = Callable[[Attributes], str | None]


def _reader(name: str) -> Reader:
    """The string form of attribute ``name`` (``None`` when absent), aliases included."""
    derived = _DERIVED.get(name)
    if derived is not None:
        return derived

    def read(attributes: Attributes) -> str | None:
        value = attributes.get(name)
        return value if value is None or type(value) is str else to_string(value)

    return read


def _affix(read: Reader, operand: str, *, suffix: bool) -> Predicate:
    def prefix(attributes: Attributes) -> bool:
        value = read(attributes)
        return value is not None and value.startswith(operand)

    def suffix_(attributes: Attributes) -> bool:
        value = read(attributes)
        return value is not None and value.endswith(operand)

    return suffix_ if suffix else prefix


def _schemaurl(attributes: Attributes) -> str | None:
    value = attributes.get("dataschema")
    return None if value is None else to_string(value)


def _datamediatype(attributes: Attributes) -> str | None:
    value = attributes.get("datacontenttype")
    if value is None:
        return None
    return to_string(value).split(";", 1)[0].strip().lower()


_DERIVED: dict[str, Reader] = {"schemaurl": _schemaurl, "datamediatype": _datamediatype}


def _as_list(value: object, path: str) -> Sequence[object]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise _invalid(path, "must be a list of filters")
    return value


def _check_name(name: object, path: str) -> None:
    if not isinstance(name, str) or ATTRIBUTE_NAME.fullmatch(name) is None:
        raise _invalid(path, f"invalid attribute name {name!r}: {_INVALID_NAME}")


def _invalid(path: str, message: str) -> InvalidResourceError:
    return InvalidResourceError(f"{path}: {message}", field=path)
