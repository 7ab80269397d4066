"""Label and field selectors, as the Kubernetes API parses them (pure).

Label selectors: comma-separated requirements, all of which must hold: ``k=v``, ``k==v``,
``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k`` (exists), ``!k`` (does not exist),
``k>5`` and ``k<5``. ``!=`` and ``notin`` also match objects without the key.

Field selectors: ``f=v``, ``f==v``, ``f!=v`` over ``metadata.name`` and
``metadata.namespace`` (``\\`` escapes ``,`` and ``=``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .status import ApiError

Matcher = Callable[[Mapping[str, Any]], bool]
_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_SET = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s+\(([^)]*)\)\s*$")
_CMP = re.compile(rf"^\s*({_KEY})\s*(==|!=|=|>|<)\s*([-A-Za-z0-9_.]*)\s*$")
_EXISTS = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip() or parts:
        parts.append(current)
    return parts


def _requirement(text: str) -> Callable[[Mapping[str, str]], bool]:
    if match := _SET.match(text):
        key, operator, raw = match.group(1), match.group(3), match.group(4)
        values = {v.strip() for v in raw.split(",") if v.strip()}
        if operator == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if match := _CMP.match(text):
        key, operator, value = match.group(1), match.group(3), match.group(4)
        if operator in ("=", "=="):
            return lambda labels: labels.get(key) == value
        if operator == "!=":
            return lambda labels: labels.get(key) != value
        if not value.lstrip("-").isdigit():
            raise ApiError(
                f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must be "
                f"an integer: {value!r}",
                code=400,
            )
        number = int(value)
        if operator == ">":
            return lambda labels: _number(labels.get(key)) > number
        return lambda labels: _number(labels.get(key)) < number
    if match := _EXISTS.match(text):
        negated, key = match.group(1) == "!", match.group(2)
        return (lambda labels: key not in labels) if negated else (lambda labels: key in labels)
    raise ApiError(f"unable to parse requirement: found {text.strip()!r}, expected: key", code=400)


def _number(value: str | None) -> float:
    try:
        return float(value) if value is not None else float("nan")
    except ValueError:
        return float("nan")


def label_selector(text: str | None) -> Matcher:
    """A predicate over objects for a ``labelSelector``; 400 ApiError when unparsable."""
    if not text or not text.strip():
        return lambda _obj: True
    requirements = [_requirement(part) for part in _split(text)]

    def matches(obj: Mapping[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(requirement(labels) for requirement in requirements)

    return matches


def _field_terms(text: str) -> list[str]:
    terms, current, escaped = [], "", False
    for char in text:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            current += char
            escaped = True
        elif char == ",":
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [t for t in terms if t.strip()]


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def field_selector(text: str | None, *, namespaced: bool = True) -> Matcher:
    """A predicate for a ``fieldSelector`` over metadata.name and metadata.namespace."""
    if not text or not text.strip():
        return lambda _obj: True
    checks: list[Callable[[Mapping[str, Any]], bool]] = []
    supported = {"metadata.name", "metadata.namespace"} if namespaced else {"metadata.name"}
    for term in _field_terms(text):
        match = re.match(r"^\s*([A-Za-z0-9_.\[\]]+)\s*(==|!=|=)(.*)$", term)
        if match is None:
            raise ApiError(f"invalid selector: {term!r}; can't understand {term!r}", code=400)
        field, operator, value = match.group(1), match.group(2), _unescape(match.group(3))
        if field not in supported:
            raise ApiError(f"field label not supported: {field}", code=400)
        key = field.split(".", 1)[1]

        def check(
            obj: Mapping[str, Any], key: str = key, value: str = value, neg: bool = operator == "!="
        ) -> bool:
            actual = str((obj.get("metadata") or {}).get(key, ""))
            return (actual != value) if neg else (actual == value)

        checks.append(check)
    return lambda obj: all(check(obj) for check in checks)


def selector_text(selector: Mapping[str, Any] | None) -> str:
    """A ``metav1.LabelSelector`` object (``matchLabels``, ``matchExpressions``) in the text
    form :func:`label_selector` reads, as ``metav1.LabelSelectorAsSelector`` renders it.

    ``None`` and ``{}`` select everything (the empty string).
    """
    if not selector:
        return ""
    terms = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key", ""), expression.get("operator", "")
        values = ",".join(sorted(str(v) for v in expression.get("values") or []))
        if operator == "In":
            terms.append(f"{key} in ({values})")
        elif operator == "NotIn":
            terms.append(f"{key} notin ({values})")
        elif operator == "Exists":
            terms.append(key)
        elif operator == "DoesNotExist":
            terms.append(f"!{key}")
        else:
            raise ApiError(f"{operator!r} is not a valid label selector operator", code=400)
    return ",".join(terms)
