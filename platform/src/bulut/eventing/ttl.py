"""The broker's hop limit, ``knativebrokerttl`` (pure).

The ingress sets it to 255 when absent and decrements it when present; an event whose
TTL has reached 0 is refused with 400 and dropped. The TTL is stripped before delivery
to a subscriber and put back on the subscriber's reply, which is what ends reply loops.
"""

from __future__ import annotations

from collections.abc import Mapping

TTL_ATTRIBUTE = "knativebrokerttl"
ARRIVAL_ATTRIBUTE = "knativearrivaltime"
DEFAULT_TTL = 255


class TTLExhaustedError(ValueError):
    """The event came back to the broker too many times."""


def ingress_ttl(attributes: Mapping[str, object], max_ttl: int = DEFAULT_TTL) -> int:
    """The TTL the ingress stores for an arriving event.

    Absent -> ``max_ttl``; present -> one less (floor 0). Raises
    :class:`TTLExhaustedError` when the result is 0, or the value is not an integer.
    """
    raw = attributes.get(TTL_ATTRIBUTE)
    if raw is None:
        return max_ttl
    try:
        current = int(str(raw))
    except ValueError:
        raise TTLExhaustedError(f"{TTL_ATTRIBUTE} is not an integer: {raw!r}") from None
    ttl = max(current - 1, 0)
    if ttl <= 0:
        raise TTLExhaustedError(f"{TTL_ATTRIBUTE} reached 0: the event is dropped")
    return ttl
