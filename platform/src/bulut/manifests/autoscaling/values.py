"""Go-syntax values as Knative's ConfigMap and annotation parsers read them.

Knative parses `config-autoscaler` and the autoscaling annotations with Go's ``strconv``
and ``time.ParseDuration``, so ``"60s"``, ``"1m30s"``, ``"500ms"`` and ``"0"`` are
durations while ``"60"`` and ``" 6s"`` are not, ``"True"`` or ``"1"`` are booleans, and
``"+3"`` is an integer while ``"3.0"`` is not. Every parser returns ``None`` for text Go
would reject; the caller turns that into an error that names the field.
"""

from __future__ import annotations

import math
import re

_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_DURATION_PART = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_INTEGER = re.compile(r"[+-]?[0-9]+")
INT32_MAX = 2**31 - 1


def parse_duration(text: str) -> float | None:
    """Seconds in a Go duration (``"1m30s"``, ``"500ms"``, ``"0"``), or ``None``."""
    body = text[1:] if text[:1] in "+-" else text
    sign = -1.0 if text.startswith("-") else 1.0
    if body == "0":
        return 0.0
    if not body:
        return None
    total = 0.0
    position = 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position:
            return None
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(body):
        return None
    return sign * total


def parse_bool(text: str) -> bool | None:
    """A Go ``strconv.ParseBool`` value, or ``None``."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def parse_float(text: str) -> float | None:
    """A finite float as Go's ``strconv.ParseFloat`` reads it, or ``None``."""
    if not text or not text.isascii() or text != text.strip() or "_" in text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_integer(text: str) -> int | None:
    """A base-10 integer of any size in Go's syntax (ASCII digits, optional sign), or ``None``."""
    return int(text) if _INTEGER.fullmatch(text) else None


def parse_int32(text: str) -> int | None:
    """A base-10 int32 as Go's ``strconv.ParseInt(text, 10, 32)`` reads it, or ``None``."""
    value = parse_integer(text)
    return value if value is not None and -INT32_MAX - 1 <= value <= INT32_MAX else None


def is_whole_seconds(seconds: float) -> bool:
    """Whether a duration has at most second precision (Knative rejects ``"1.5s"`` windows)."""
    return abs(seconds - round(seconds)) < 1e-9


def format_seconds(seconds: float) -> str:
    """A duration the way an error message should show it: ``6s``, ``1h0m0s`` → ``3600s``."""
    if is_whole_seconds(seconds):
        return f"{round(seconds)}s"
    return f"{seconds:g}s"
