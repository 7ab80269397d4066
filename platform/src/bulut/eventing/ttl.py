"""The broker's hop limit, ``knativebrokerttl`` (pure).

The ingress sets it to 255 when absent and decrements it when present; an event whose
TTL has reached 0 is refused with 400 and dropped, and so is one whose TTL is not an
integer from 0 to 255 (decimal digits only: a 20-digit value once overflowed the log).
The TTL is stripped before delivery to a subscriber and put back on the subscriber's
reply, which is what ends reply loops.
"""

from __future__ import annotations

from collections.abc import Mapping

TTL_ATTRIBUTE = "knativebrokerttl"
ARRIVAL_ATTRIBUTE = "knativearrivaltime"
DEFAULT_TTL = 255
MAX_TTL = 255  # the documented range of the extension is 0-255


class TTLExhaustedError(ValueError):
    """The event came back to the broker too many times."""


def ingress_ttl(attributes: Mapping[str, object], max_ttl: int = DEFAULT_TTL) -> int:
    """The TTL the ingress stores for an arriving event.

    Absent -> ``max_ttl``; present -> one less. Raises :class:`TTLExhaustedError` when
    the result is 0, or the value is not an integer from 0 to :data:`MAX_TTL`.
    """
    raw = attributes.get(TTL_ATTRIBUTE)
    if raw is None:
        return max_ttl
    current = _integer(raw)
    if current is None or not 0 <= current <= MAX_TTL:
        raise TTLExhaustedError(
            f"{TTL_ATTRIBUTE} must be an integer from 0 to {MAX_TTL}, got {str(raw)[:40]!r}"
        )
    if current <= 1:
        raise TTLExhaustedError(f"{TTL_ATTRIBUTE} reached 0: the event is dropped")
    return current - 1


def _integer(raw: object) -> int | None:
    """``raw`` as an integer: an int (not a bool), or at most 3 decimal digits."""
    if type(raw) is int:
        return raw
    if isinstance(raw, str) and 0 < len(raw) <= 3 and raw.isascii() and raw.isdigit():
        return int(raw)
    return None
