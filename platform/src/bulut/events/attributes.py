"""Context attributes: names, types and the MUST rules of CloudEvents 1.0.

Pure checks shared by every mode. Each raises
:class:`~bulut.errors.InvalidCloudEventError` with ``field`` set to the attribute name
and a message that names it and says what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeAlias

from bulut.errors import InvalidCloudEventError
from bulut.events.media_types import KNOWN_MEDIA_TYPES, check_media_type, is_media_type
from bulut.events.timestamps import QUICK_TIMESTAMP, check_timestamp, is_timestamp
from bulut.events.verdicts import KnownValid

AttributeValue: TypeAlias = str | int | bool

SPECVERSION: Final = "1.0"
REQUIRED: Final = ("id", "source", "specversion", "type")
OPTIONAL: Final = ("datacontenttype", "dataschema", "subject", "time")
CORE: Final = frozenset(REQUIRED + OPTIONAL)
REQUIRED_NAMES: Final = frozenset(REQUIRED)
INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1

# RFC 3986 characters (unreserved, reserved) plus "%" checked separately for escapes.
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def is_valid_name(name: str) -> bool:
    """True when ``name`` is a legal attribute name: ``[a-z0-9]+`` and not ``data``."""
    return (
        name.isascii() and name.isalnum() and (name.islower() or name.isdigit()) and name != "data"
    )


def check_name(name: str) -> None:
    """Raise unless ``name`` may name an attribute."""
    if not is_valid_name(name):
        if name == "data":
            reason = "is reserved and cannot be an attribute name"
        else:
            reason = "is not a valid attribute name (lower-case letters a-z and digits 0-9 only)"
        raise InvalidCloudEventError(f"attribute name {name!r:.80} {reason}", field=name)


def uri_problem(value: str, absolute: bool) -> str | None:
    """What keeps ``value`` from being a URI (``absolute``) or URI-reference, or None."""
    if _URI_CHARS.fullmatch(value) is None:
        return (
            "contains characters a URI cannot hold (spaces, quotes, non-ASCII: percent-encode them)"
        )
    if "%" in value and _BAD_PERCENT.search(value) is not None:
        return "has a '%' not followed by two hex digits"
    if absolute and _SCHEME.match(value) is None:
        return "must be an absolute URI with a scheme, like https://example.com/schema"
    return None


# Sources (and schemas) repeat on every event of a producer: remember the short ones that
# passed (long ones are not kept, so hostile input cannot pin memory).
MEMO_MAX_LENGTH: Final = 256
#: Sources already found to be URI-references; ``KNOWN_SOURCES.contains`` is a quick test.
KNOWN_SOURCES: Final = KnownValid(max_length=MEMO_MAX_LENGTH, max_size=512)
#: Data schemas already found to be absolute URIs.
KNOWN_SCHEMAS: Final = KnownValid(max_length=MEMO_MAX_LENGTH, max_size=128)


def _check_non_empty(name: str, value: str) -> None:
    if not value:
        raise InvalidCloudEventError(f"{name} must be a non-empty string", field=name)


def _check_specversion(name: str, value: str) -> None:
    if value != SPECVERSION:
        raise InvalidCloudEventError(
            f'specversion must be "1.0" (the only supported version), got {value!r:.80}',
            field=name,
        )


def _check_source(name: str, value: str) -> None:
    if KNOWN_SOURCES.contains(value):
        return
    if not value:
        _check_non_empty(name, value)
    problem = uri_problem(value, False)
    if problem is not None:
        raise InvalidCloudEventError(
            f"{name} must be a URI-reference: {value!r:.80} {problem}", field=name
        )
    KNOWN_SOURCES.remember(value)


def _check_dataschema(name: str, value: str) -> None:
    if KNOWN_SCHEMAS.contains(value):
        return
    if not value:
        _check_non_empty(name, value)
    problem = uri_problem(value, True)
    if problem is not None:
        raise InvalidCloudEventError(f"{name} must be a URI: {value!r:.80} {problem}", field=name)
    KNOWN_SCHEMAS.remember(value)


def _check_time(name: str, value: str) -> None:
    if not is_timestamp(value):
        _check_non_empty(name, value)
        check_timestamp(name, value)


def _check_datacontenttype(name: str, value: str) -> None:
    if not is_media_type(value):
        _check_non_empty(name, value)
        check_media_type(name, value)


StringCheck: TypeAlias = Callable[[str, str], None]
QuickCheck: TypeAlias = Callable[[str], object]

#: The check of each core attribute's string value, by attribute name.
STRING_CHECKS: Final[Mapping[str, StringCheck]] = {
    "id": _check_non_empty,
    "source": _check_source,
    "specversion": _check_specversion,
    "type": _check_non_empty,
    "datacontenttype": _check_datacontenttype,
    "dataschema": _check_dataschema,
    "subject": _check_non_empty,
    "time": _check_time,
}


#: A quick test of each core attribute's value, for the decoders' fast paths, to be used
#: on strings only: all calls into C (no Python frame). Truthy means valid; falsy says
#: nothing, and the value must then go through ``STRING_CHECKS`` (which raises the
#: precise error, or accepts it and remembers it for the next quick test).
QUICK_CHECKS: Final[Mapping[str, QuickCheck]] = {
    "id": len,
    "source": KNOWN_SOURCES.contains,
    "specversion": frozenset((SPECVERSION,)).__contains__,
    "type": len,
    "datacontenttype": KNOWN_MEDIA_TYPES.contains,
    "dataschema": KNOWN_SCHEMAS.contains,
    "subject": len,
    "time": QUICK_TIMESTAMP,
}


def check_string(name: str, value: str) -> None:
    """Raise unless ``value`` is acceptable for the core String-typed attribute ``name``.

    Extensions are not checked here: an extension String may be empty.
    """
    check = STRING_CHECKS.get(name)
    if check is not None:
        check(name, value)


def check_value(name: str, value: object) -> AttributeValue:
    """Check a typed attribute value (from JSON or Python) and return it.

    Core attributes must be strings; extensions may be strings, booleans or 32-bit
    integers. Floats, objects, arrays and other types are rejected.
    """
    if name in CORE:
        if type(value) is not str:
            raise InvalidCloudEventError(
                f"{name} must be a string, got {type(value).__name__} {value!r:.80}", field=name
            )
        check_string(name, value)
        return value
    if isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        if not INT32_MIN <= value <= INT32_MAX:
            raise InvalidCloudEventError(
                f"{name} is an Integer outside the 32-bit range "
                f"[{INT32_MIN}, {INT32_MAX}]: {value}",
                field=name,
            )
        return value
    raise InvalidCloudEventError(
        f"{name} must be a string, boolean or 32-bit integer, "
        f"got {type(value).__name__} {value!r:.80}",
        field=name,
    )


def check_required(attributes: Mapping[str, Any], *, prefix: str = "") -> None:
    """Raise naming the first required attribute that is missing."""
    for name in REQUIRED:
        if name not in attributes:
            raise InvalidCloudEventError(f"{prefix}{name} is required but missing", field=name)


def validate(attributes: Mapping[str, object]) -> dict[str, AttributeValue]:
    """Check a whole attribute mapping (typed values) and return it as a new dict.

    ``None`` values are dropped (an absent optional attribute).
    """
    checked: dict[str, AttributeValue] = {}
    for name, value in attributes.items():
        if value is None:
            continue
        if name not in CORE:
            check_name(name)
        checked[name] = check_value(name, value)
    check_required(checked)
    return checked


def canonical_string(value: AttributeValue) -> str:
    """The canonical string form of a value: ``true``/``false``, decimal integers, strings as is."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
