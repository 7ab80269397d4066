"""Kubernetes resource quantities (``100m``, ``128Mi``, ``1e3``), as ``resource.ParseQuantity``.

A quantity is a signed decimal number followed by a binary SI suffix (Ki, Mi, Gi, Ti, Pi, Ei),
a decimal SI suffix (n, u, m, "", k, M, G, T, P, E) or a decimal exponent (``e3``, ``E-2``).
Integers in YAML are quantities too.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bulut.errors import InvalidInputError

_FORM = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
FORM_MESSAGE = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)


def parse(value: object) -> Decimal:
    """The quantity's value; InvalidInputError naming the form when it is not one."""
    if isinstance(value, bool):
        raise InvalidInputError(FORM_MESSAGE)
    if isinstance(value, int | float):
        return Decimal(str(value))
    if not isinstance(value, str):
        raise InvalidInputError(FORM_MESSAGE)
    match = _FORM.match(value.strip())
    if match is None:
        raise InvalidInputError(FORM_MESSAGE)
    number, suffix = match.groups()
    try:
        base = Decimal(number)
    except InvalidOperation:
        raise InvalidInputError(FORM_MESSAGE) from None
    if suffix in _BINARY:
        return base * (Decimal(1024) ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return base * (Decimal(10) ** _DECIMAL[suffix])
    if suffix[:1] in ("e", "E"):
        try:
            return base * (Decimal(10) ** int(suffix[1:]))
        except ValueError:
            raise InvalidInputError(FORM_MESSAGE) from None
    raise InvalidInputError("unable to parse quantity's suffix")


def is_quantity(value: object) -> bool:
    """Whether ``value`` parses as a quantity."""
    try:
        parse(value)
    except InvalidInputError:
        return False
    return True
