"""PingSource schedules: Knative's cron rules, for admission and for the runner (pure).

Knative's adapter (mtping) accepts 5 cron fields or 6 with a *leading* seconds field,
descriptors such as ``@hourly`` (not ``@every``), a ``CRON_TZ=``/``TZ=`` prefix and
``spec.timezone``. A schedule that parses but can never fire (``0 0 31 2 *``) or has a
value out of range (``99 * * * *``) is refused: the admission calls :func:`next_fire`
so such a PingSource is rejected instead of being Ready and silent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from bulut.errors import InvalidValueError


def next_fire(schedule: str, timezone: str | None, after: datetime) -> datetime:
    """The first tick strictly after ``after`` (aware, UTC), per Knative's cron rules."""
    expression = schedule.strip()
    for prefix in ("CRON_TZ=", "TZ="):
        if expression.startswith(prefix):
            zone_name, _, expression = expression[len(prefix) :].partition(" ")
            timezone = timezone or zone_name
            expression = expression.strip()
    if expression.startswith("@every"):
        raise InvalidValueError(
            "spec.schedule: @every is not supported by PingSource", field="spec.schedule"
        )
    try:
        zone = ZoneInfo(timezone) if timezone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValueError(
            f"spec.timezone: unknown time zone {timezone!r}", field="spec.timezone"
        ) from None
    seconds_first = len(expression.split()) == 6
    try:
        iterator = croniter(expression, after.astimezone(zone), second_at_beginning=seconds_first)
        tick: datetime = iterator.get_next(datetime)
    except (ValueError, KeyError) as error:
        raise InvalidValueError(f"spec.schedule: {error}", field="spec.schedule") from None
    return tick.astimezone(UTC)
