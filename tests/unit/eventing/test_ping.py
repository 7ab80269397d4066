"""PingSource schedules and the event shape Knative's adapter emits."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from bulut.eventing.sources.ping import (
    PING_TYPE,
    jitter,
    next_fire,
    parse_ping_source,
    ping_event,
)

NOON = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "timezone", "expected"),
    [
        ("* * * * *", None, datetime(2026, 1, 15, 12, 1, tzinfo=UTC)),
        ("*/10 * * * * *", None, datetime(2026, 1, 15, 12, 0, 10, tzinfo=UTC)),
        ("0 13 * * *", None, datetime(2026, 1, 15, 13, 0, tzinfo=UTC)),
        ("0 13 * * *", "Europe/Istanbul", datetime(2026, 1, 16, 10, 0, tzinfo=UTC)),
        ("CRON_TZ=America/New_York 0 9 * * *", None, datetime(2026, 1, 15, 14, 0, tzinfo=UTC)),
        ("@hourly", None, datetime(2026, 1, 15, 13, 0, tzinfo=UTC)),
    ],
)
def test_next_tick_follows_cron_with_optional_seconds_and_timezone(
    schedule: str, timezone: str | None, expected: datetime
) -> None:
    assert next_fire(schedule, timezone, NOON) == expected


@pytest.mark.parametrize(
    ("schedule", "timezone", "message"),
    [
        ("@every 1m", None, "@every"),
        ("* * *", None, "spec.schedule"),
        ("* * * * *", "Mars/Olympus", "spec.timezone"),
    ],
)
def test_bad_schedules_are_named(schedule: str, timezone: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        next_fire(schedule, timezone, NOON)


def _ping(**spec: Any) -> dict[str, Any]:
    return {
        "kind": "PingSource",
        "metadata": {"name": "heartbeat", "namespace": "shop"},
        "spec": spec,
        "status": {"sinkUri": "http://127.0.0.1:8080/shop/default"},
    }


def test_emits_knatives_ping_event_with_data_and_overrides() -> None:
    spec = parse_ping_source(
        _ping(
            schedule="* * * * *",
            contentType="application/json",
            data='{"beat": 1}',
            ceOverrides={"extensions": {"team": "ops"}},
        )
    )
    event = ping_event(spec, NOON)
    assert event.type == PING_TYPE == "dev.knative.sources.ping"
    assert event.source == "/apis/v1/namespaces/shop/pingsources/heartbeat"
    assert event.data == b'{"beat": 1}'
    assert event.datacontenttype == "application/json"
    assert event.get("team") == "ops"
    assert event.time == "2026-01-15T12:00:00.000000Z"
    assert event.id != ping_event(spec, NOON).id
    assert spec.sink_uri == "http://127.0.0.1:8080/shop/default"


def test_data_base64_is_decoded() -> None:
    spec = parse_ping_source(_ping(dataBase64="aGVsbG8=", contentType="text/plain"))
    assert ping_event(spec, NOON).data == b"hello"


def test_data_and_data_base64_are_exclusive() -> None:
    with pytest.raises(ValueError, match="mutually exclusive"):
        parse_ping_source(_ping(data="a", dataBase64="YQ=="))


def test_the_default_schedule_is_every_minute() -> None:
    assert parse_ping_source(_ping()).schedule == "* * * * *"


def test_jitter_stays_within_half_a_second() -> None:
    rng = random.Random(7)
    samples = [jitter(rng) for _ in range(1000)]
    assert min(samples) >= 0.0 and max(samples) < 0.5
