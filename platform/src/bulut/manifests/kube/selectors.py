"""Label selectors: their validation (``ValidateLabelSelector``) and what they select.

An empty selector (``{}``) selects everything; a missing one (None) selects nothing, as
for NetworkPolicy peers and PodDisruptionBudgets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..findings import FieldError
from .names import invalid, label_key, label_value, required, unsupported

OPERATORS = ["DoesNotExist", "Exists", "In", "NotIn"]


def validate_selector(selector: Any, path: str) -> list[FieldError]:
    """Keys, values and operators of a LabelSelector."""
    if selector is None:
        return []
    if not isinstance(selector, Mapping):
        return [invalid(path, selector, "must be an object")]
    errors: list[FieldError] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        errors += label_key(f"{path}.matchLabels", key)
        errors += label_value(f"{path}.matchLabels", value)
    for index, expression in enumerate(selector.get("matchExpressions") or []):
        where = f"{path}.matchExpressions[{index}]"
        if not isinstance(expression, Mapping):
            errors.append(invalid(where, expression, "must be an object"))
            continue
        errors += label_key(f"{where}.key", expression.get("key"))
        operator, values = expression.get("operator"), expression.get("values") or []
        if operator in ("In", "NotIn"):
            if not values:
                errors.append(
                    required(
                        f"{where}.values", "must be specified when `operator` is 'In' or 'NotIn'"
                    )
                )
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errors.append(
                    FieldError(
                        f"{where}.values",
                        "Forbidden: may not be specified when `operator` is 'Exists' or "
                        "'DoesNotExist'",
                    )
                )
        else:
            errors.append(unsupported(f"{where}.operator", operator, OPERATORS))
        for value_index, value in enumerate(values):
            errors += label_value(f"{where}.values[{value_index}]", value)
    return errors


def keys_of(selector: Mapping[str, Any] | None) -> list[str]:
    """Every label key a selector names (matchLabels, then matchExpressions)."""
    if not selector:
        return []
    keys = [str(key) for key in (selector.get("matchLabels") or {})]
    keys += [
        str(e.get("key")) for e in selector.get("matchExpressions") or [] if isinstance(e, Mapping)
    ]
    return keys


def matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether a label set satisfies the selector (None selects nothing, {} everything)."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(str(key)) != str(value):
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = str(expression.get("key")), expression.get("operator")
        values = [str(v) for v in expression.get("values") or []]
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True
