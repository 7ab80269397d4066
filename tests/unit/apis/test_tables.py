"""Tables from printer columns, JSONPath cells and human durations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bulut.apis.registry import registry
from bulut.apis.tables import evaluate, human_duration, table


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5, "5s"),
        (119, "119s"),
        (302, "5m2s"),
        (600, "10m"),
        (3 * 3600 + 240, "3h4m"),
        (20 * 3600, "20h"),
        (3 * 86400 + 4 * 3600, "3d4h"),
        (30 * 86400, "30d"),
        (-5, "<invalid>"),
    ],
)
def test_human_durations_read_as_kubectl_prints_them(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def test_jsonpath_fields_filters_and_escaped_dots() -> None:
    document = {
        "metadata": {"annotations": {"eventing.knative.dev/broker.class": "MT"}},
        "status": {
            "conditions": [{"type": "A", "status": "False"}, {"type": "Ready", "status": "True"}]
        },
    }
    assert evaluate(".status.conditions[?(@.type=='Ready')].status", document) == ["True"]
    assert evaluate('.status.conditions[?(@.type=="A")].status', document) == ["False"]
    assert evaluate(r".metadata.annotations.eventing\.knative\.dev/broker\.class", document) == [
        "MT"
    ]
    assert evaluate(".status.conditions[0].type", document) == ["A"]
    assert evaluate(".missing.path", document) == []


def test_a_service_table_has_the_crd_columns() -> None:
    service = {
        "metadata": {"name": "hello", "creationTimestamp": "2026-12-07T00:00:00Z"},
        "status": {"url": "http://hello", "conditions": [{"type": "Ready", "status": "True"}]},
    }
    answer = table(
        registry().lookup("ksvc"),
        [service],
        resource_version="7",
        now=datetime(2026, 12, 7, 0, 5, tzinfo=UTC),
    )
    assert answer["metadata"] == {"resourceVersion": "7"}
    assert answer["rows"][0]["cells"] == ["hello", "http://hello", None, None, "True", None]
    configmaps = table(
        registry().lookup("cm"),
        [
            {
                "metadata": {"name": "c", "creationTimestamp": "2026-12-07T00:00:00Z"},
                "data": {"a": "1"},
            }
        ],
        now=datetime(2026, 12, 7, 0, 5, tzinfo=UTC),
    )
    assert configmaps["rows"][0]["cells"] == ["c", 1, "5m"]
