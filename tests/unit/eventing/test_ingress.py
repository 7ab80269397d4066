"""The ingress's pure parts: broker paths, arrival time, the logged binary headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bulut.errors import InvalidCloudEventError, NotFoundError
from bulut.eventing.ingress import arrival_time, binary_headers, broker_of
from bulut.events import CloudEvent, encode_binary, new_event


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/default/default", ("default", "default")),
        ("/team-a/orders/", ("team-a", "orders")),
    ],
)
def test_a_broker_path_names_namespace_and_broker(path: str, expected: tuple[str, str]) -> None:
    assert broker_of(path) == expected


def test_the_root_is_404_and_other_shapes_are_400() -> None:
    with pytest.raises(NotFoundError):
        broker_of("/")
    for path in ("/one", "/a/b/c", "//b", "/a//"):
        with pytest.raises(InvalidCloudEventError):
            broker_of(path)


def test_arrival_time_is_rfc3339_utc_with_microseconds() -> None:
    stamp = arrival_time()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp)
    parsed = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - parsed) < timedelta(seconds=2)
    assert arrival_time() >= stamp


EVENTS = [
    new_event(type="t", source="/s", id="1", data={"a": 1}),
    new_event(type="t", source="/s", id="2", time="2026-01-01T00:00:00Z", subject="plain"),
    new_event(type="with space", source="/s", id="3", subject='quote " and % and é'),
    new_event(type="t", source="/s", id="4", count=7, flag=True, off=False),
    new_event(type="t", source="/s", id="5", data=b"\x00\x01", datacontenttype="text/plain"),
    new_event(type="t", source="urn:x", id="6", data=None, ext="tab\there"),
    CloudEvent({"specversion": "1.0", "id": "7", "source": "/s", "type": "t"}),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.id)
def test_logged_headers_are_what_encode_binary_writes(event: CloudEvent) -> None:
    headers, _ = encode_binary(event)
    expected = [(name.encode(), value.encode("latin-1")) for name, value in headers.items()]
    assert binary_headers(event.attributes) == expected
