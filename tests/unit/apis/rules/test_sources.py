"""sources.knative.dev rules (PingSource, SinkBinding): refused naming the field; defaults."""

from __future__ import annotations

from typing import Any

import pytest

from bulut.apis.rules.sources import default_pingsource, validate_pingsource, validate_sinkbinding
from bulut.errors import InvalidResourceError


def ping(**spec: Any) -> dict[str, Any]:
    return {
        "kind": "PingSource",
        "metadata": {"name": "p"},
        "spec": {"sink": {"uri": "http://x"}, **spec},
    }


INVALID_PINGS = [
    ({"schedule": "@every 1m"}, "spec.schedule"),
    ({"schedule": "* * *"}, "spec.schedule"),
    ({"schedule": ""}, "spec.schedule"),
    ({"data": "a", "dataBase64": "YQ=="}, "spec.data, spec.dataBase64"),
    ({"dataBase64": "not base64!"}, "spec.dataBase64"),
    ({"data": "{oops", "contentType": "application/json"}, "spec.data"),
    ({"sink": None}, "spec.sink"),
    ({"ceOverrides": {"extensions": {"Bad": "x"}}}, "spec.ceOverrides.extensions.Bad"),
    # impossible schedules (issue #20, item 7): they were Ready and never fired
    ({"schedule": "99 * * * *"}, "spec.schedule"),
    ({"schedule": "0 0 31 2 *"}, "spec.schedule"),
    ({"schedule": "*/0 * * * *"}, "spec.schedule"),
    ({"schedule": "0 9 * * 8"}, "spec.schedule"),
    ({"schedule": "0 9 * * *", "timezone": "Mars/Olympus"}, "spec.timezone"),
]


@pytest.mark.parametrize(("spec", "field"), INVALID_PINGS)
def test_invalid_pingsource_is_refused_naming_the_field(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidResourceError) as caught:
        validate_pingsource(ping(**spec))
    assert caught.value.field == field


@pytest.mark.parametrize(
    "schedule",
    ["* * * * *", "*/2 * * * *", "0 * * * * *", "@hourly", "CRON_TZ=Europe/Istanbul 0 9 * * 1-5"],
)
def test_valid_schedules_pass(schedule: str) -> None:
    validate_pingsource(ping(schedule=schedule, data='{"a": 1}', contentType="application/json"))


def test_sinkbinding_needs_a_subject_with_name_or_selector() -> None:
    binding: dict[str, Any] = {
        "kind": "SinkBinding",
        "metadata": {"name": "b"},
        "spec": {
            "sink": {"uri": "http://x"},
            "subject": {"apiVersion": "apps/v1", "kind": "Deployment"},
        },
    }
    with pytest.raises(InvalidResourceError) as caught:
        validate_sinkbinding(binding)
    assert caught.value.field == "spec.subject"
    binding["spec"]["subject"]["name"] = "d"
    validate_sinkbinding(binding)


def test_a_pingsource_fires_every_minute_unless_it_says_otherwise() -> None:
    assert default_pingsource(ping())["spec"]["schedule"] == "* * * * *"
    assert default_pingsource(ping(schedule="@hourly"))["spec"]["schedule"] == "@hourly"
