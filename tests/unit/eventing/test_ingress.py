"""The ingress's pure parts: broker paths, arrival time, the logged binary headers, limits,
and the plain path that logs a binary event's headers as they came."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from bulut.errors import InvalidCloudEventError, NotFoundError
from bulut.eventing import ingress as ingress_module
from bulut.eventing.ingress import (
    DEFAULT_MAX_EVENT_BYTES,
    Ingress,
    PayloadTooLargeError,
    arrival_time,
    binary_headers,
    broker_of,
)
from bulut.events import CloudEvent, encode_binary, new_event
from bulut.observability.tracing import TraceContext


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


class _Log:
    """The one thing prepare reads of the log: sequence numbers."""

    def __init__(self) -> None:
        self.head = 0

    def next_seq(self) -> int:
        self.head += 1
        return self.head


CORE = [(b"ce-specversion", b"1.0"), (b"ce-id", b"42"), (b"ce-source", b"/s"), (b"ce-type", b"t")]
JSON = [(b"content-type", b"application/json")]
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

PLAIN_REQUESTS = {
    "core": CORE,
    "json": [*CORE, *JSON],
    "extensions": [*CORE, (b"ce-subject", b"a"), (b"ce-count", b"7"), *JSON],
    "a ttl to decrement": [*CORE, (b"ce-knativebrokerttl", b"12"), *JSON],
    "an earlier arrival": [*CORE, (b"ce-knativearrivaltime", b"2026-01-01T00:00:00Z"), *JSON],
    "its own trace": [*CORE, (b"ce-traceparent", TRACE.encode()), *JSON],
    "its own trace and state": [
        *CORE, (b"ce-traceparent", TRACE.encode()), (b"ce-tracestate", b"k=v")
    ],
    "a hop's trace": [(b"traceparent", TRACE.encode()), *CORE, *JSON],
    "a hop's trace and state": [
        (b"traceparent", TRACE.encode()), (b"tracestate", b"a=b, c=d"), *CORE
    ],
    "other headers": [(b"host", b"x"), (b"user-agent", b"curl"), *CORE, (b"accept", b"*/*")],
    "a time": [*CORE, (b"ce-time", b"2026-11-28T04:05:06.123Z"), *JSON],
}  # fmt: skip


ROOT = TraceContext("2" * 32, "3" * 16)


def _child_of(parent: TraceContext | None) -> TraceContext:
    """``tracing.child_of`` without the random ids."""
    if parent is None:
        return ROOT
    return TraceContext(parent.trace_id, "1" * 16, parent.flags, parent.state)


def _both_ways(
    monkeypatch: pytest.MonkeyPatch, headers: list[tuple[bytes, bytes]], body: bytes
) -> tuple[Any, Any]:
    """The plain path's entry and the full path's, with one clock and one trace id."""
    monkeypatch.setattr(ingress_module, "arrival_time", lambda: "2026-12-07T10:00:00.000001Z")
    monkeypatch.setattr(ingress_module, "child_of", _child_of)
    ingress = Ingress(cast(Any, _Log()), cast(Any, _Brokers()))
    plain = ingress.prepare_plain("default", "default", headers, body)
    events, parent = ingress.decode_request("default", "default", headers, body)
    full, _ = ingress.prepare("default", "default", events, parent)
    return plain, full[0]


@pytest.mark.parametrize("name", PLAIN_REQUESTS)
def test_the_plain_path_logs_what_the_full_path_logs(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    plain, full = _both_ways(monkeypatch, PLAIN_REQUESTS[name], b'{"a":1}')
    assert plain is not None, "a plain binary event takes the plain path"
    entry, spans = plain
    assert spans == []
    assert entry.attributes == full.attributes
    assert list(entry.attributes) == list(full.attributes)  # the same order
    assert entry.headers == full.headers  # byte for byte, in the same order
    assert (entry.id, entry.source, entry.type, entry.ttl, entry.body, entry.trace) == (
        full.id, full.source, full.type, full.ttl, full.body, full.trace
    )  # fmt: skip
    assert (b"ce-knativebrokerttl", b"12") not in entry.headers


def test_a_ttl_is_decremented_and_the_arrival_time_stamped_anew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    headers = [*CORE, (b"ce-knativebrokerttl", b"12"), (b"ce-knativearrivaltime", b"old")]
    plain, _ = _both_ways(monkeypatch, headers, b"")
    entry, _ = plain
    assert entry.ttl == 11
    assert (b"ce-knativearrivaltime", b"2026-12-07T10:00:00.000001Z") in entry.headers
    assert all(name != b"ce-knativebrokerttl" for name, _ in entry.headers)


NOT_PLAIN = {
    "a value with a space": [*CORE, (b"ce-subject", b"a b")],
    "a percent-encoded value": [*CORE, (b"ce-subject", b"a%20b")],
    "a quoted value": [*CORE, (b"ce-subject", b'"a"')],
    "a non-ASCII value": [*CORE, (b"ce-subject", "é".encode())],
    "a repeated attribute": [*CORE, (b"ce-subject", b"a"), (b"ce-subject", b"b")],
    "structured mode": [(b"content-type", b"Application/CloudEvents+json")],
    "a missing type": CORE[:3],
    "a bad source": [*CORE[:2], (b"ce-source", b"a|b"), CORE[3]],
    "ce-datacontenttype": [*CORE, (b"ce-datacontenttype", b"text/plain")],
    "a spent ttl": [*CORE, (b"ce-knativebrokerttl", b"1")],
    "a ttl that is no integer": [*CORE, (b"ce-knativebrokerttl", b"x")],
    "an unreadable trace": [*CORE, (b"ce-traceparent", b"nonsense")],
    "a state without a trace": [*CORE, (b"ce-tracestate", b"k=v")],
    "two content types": [*CORE, *JSON, *JSON],
    "a bad content type": [*CORE, (b"content-type", b"json")],
}  # fmt: skip


@pytest.mark.parametrize("name", NOT_PLAIN)
def test_anything_else_is_left_to_the_full_path(name: str) -> None:
    ingress = Ingress(cast(Any, _Log()), cast(Any, _Brokers()))
    assert ingress.prepare_plain("default", "default", NOT_PLAIN[name], b"") is None


def test_unknown_brokers_and_big_events_are_left_to_the_full_path() -> None:
    ingress = Ingress(cast(Any, _Log()), cast(Any, _Brokers()))
    assert ingress.prepare_plain("default", "other", CORE, b"") is None
    assert ingress.prepare_plain("default", "default", CORE, b"x" * DEFAULT_MAX_EVENT_BYTES) is None
    big_attribute = [*CORE, (b"ce-note", b"x" * (DEFAULT_MAX_EVENT_BYTES - 10))]
    assert ingress.prepare_plain("default", "default", big_attribute, b"x" * 20) is None
    unlimited = Ingress(cast(Any, _Log()), cast(Any, _Brokers()), limits=False)
    assert unlimited.prepare_plain("default", "default", big_attribute, b"x" * 20) is not None
