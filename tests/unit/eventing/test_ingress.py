"""The ingress's pure parts: broker paths, arrival time, the logged binary headers, limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from bulut.errors import InvalidCloudEventError, NotFoundError
from bulut.eventing.ingress import (
    DEFAULT_MAX_EVENT_BYTES,
    Ingress,
    PayloadTooLargeError,
    arrival_time,
    binary_headers,
    broker_of,
)
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


class _Brokers:
    """The one thing decode_request reads of the dispatcher."""

    brokers = frozenset({("default", "default")})


def test_with_limits_off_an_event_above_the_size_limit_is_decoded() -> None:
    big = b'{"data":"' + b"x" * DEFAULT_MAX_EVENT_BYTES + b'"}'
    headers = [(b"ce-specversion", b"1.0"), (b"ce-id", b"1"), (b"ce-source", b"/s"),
               (b"ce-type", b"t"), (b"content-type", b"application/json")]  # fmt: skip
    limited = Ingress(cast(Any, None), cast(Any, _Brokers()))
    unlimited = Ingress(cast(Any, None), cast(Any, _Brokers()), limits=False)
    with pytest.raises(PayloadTooLargeError):
        limited.decode_request("default", "default", headers, big)
    events, _ = unlimited.decode_request("default", "default", headers, big)
    assert len(events) == 1
    assert unlimited.body_limit(b"", b"/default/default", headers) > len(big)
