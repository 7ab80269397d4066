"""ISO-8601 durations as Knative's delivery specs write them (``PT0.2S``, ``PT1M30S``, ``P1D``).

The one parser for the control plane's admission (``spec.delivery`` of Brokers, Triggers,
Channels) and eventing's retry timing. Go-style autoscaler durations (``60s``) are another
format: :mod:`bulut.manifests.autoscaling`.
"""

from __future__ import annotations

import re

from bulut.errors import InvalidValueError

_DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_SECONDS = {"days": 86400.0, "hours": 3600.0, "minutes": 60.0, "seconds": 1.0}


def iso8601_seconds(text: str, *, field: str | None = None) -> float:
    """Seconds in an ISO-8601 duration; InvalidValueError (naming ``field``) for anything else.

    ``P``, ``PT`` and a trailing ``T`` are not durations (Knative's webhook rejects them too).
    """
    match = _DURATION.match(text)
    if match is None or text in {"P", "PT"} or text.endswith("T"):
        where = f"{field}: " if field else ""
        raise InvalidValueError(f"{where}not an ISO-8601 duration: {text!r}", field=field)
    return sum(float(value) * _SECONDS[unit] for unit, value in match.groupdict().items() if value)
