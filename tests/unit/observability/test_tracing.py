"""W3C traceparent parsing and propagation, and the CloudEvents tracing extension."""

from __future__ import annotations

import pytest

from bulut.observability import tracing
from bulut.observability.tracing import (
    TraceContext,
    child_of,
    event_extension,
    from_event,
    from_headers,
    from_raw_headers,
    new_root,
    parse_traceparent,
    replace_headers,
    span_attributes_from_event,
    span_attributes_from_headers,
)

VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_valid_traceparent_is_parsed_into_its_fields() -> None:
    context = parse_traceparent(VALID, "congo=t61rcWkgMzE")
    assert context == TraceContext(
        "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 1, "congo=t61rcWkgMzE"
    )
    assert context.sampled and context.traceparent == VALID


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
    ],
)
def test_invalid_traceparents_are_ignored_so_a_new_trace_starts(value: str | None) -> None:
    assert parse_traceparent(value) is None


def test_a_future_version_is_read_by_its_first_four_fields() -> None:
    context = parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what")
    assert context is not None and not context.sampled


def test_a_child_keeps_the_trace_and_gets_a_new_span_id() -> None:
    parent = parse_traceparent(VALID)
    child = child_of(parent)
    assert parent is not None
    assert child.trace_id == parent.trace_id and child.span_id != parent.span_id
    assert len(child.span_id) == 16


def test_a_child_of_nothing_is_a_new_sampled_root() -> None:
    root = child_of(None)
    assert len(root.trace_id) == 32 and root.sampled
    assert new_root().trace_id != root.trace_id


def test_a_new_root_is_a_valid_traceparent_and_never_has_a_zero_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    draws = iter([0, 1 << 64, (2 << 64) | 5])  # both ids zero, the span id zero, neither
    monkeypatch.setattr(tracing, "_random_bits", lambda bits: next(draws))
    root = new_root(sampled=False)
    assert (root.trace_id, root.span_id) == ("0" * 31 + "2", "0" * 15 + "5")
    assert parse_traceparent(root.traceparent) == root and not root.sampled


def test_the_hop_header_wins_over_the_event_extension() -> None:
    other = "00-11111111111111111111111111111111-2222222222222222-01"
    headers = [(b"ce-traceparent", other.encode()), (b"Traceparent", VALID.encode())]
    context = from_raw_headers(headers)
    assert context is not None and context.traceparent == VALID
    only_event = from_raw_headers([(b"ce-traceparent", other.encode())])
    assert only_event is not None and only_event.trace_id == "1" * 32
    assert from_raw_headers([(b"host", b"x")]) is None
    assert from_headers({"traceparent": VALID}) == parse_traceparent(VALID)


def test_replacing_hop_headers_leaves_the_event_extension_alone() -> None:
    context = parse_traceparent(VALID, "a=b")
    assert context is not None
    headers = [(b"traceparent", b"old"), (b"ce-traceparent", b"created-here"), (b"x", b"y")]
    replaced = replace_headers(headers, context)
    assert (b"ce-traceparent", b"created-here") in replaced
    assert (b"traceparent", VALID.encode()) in replaced
    assert (b"tracestate", b"a=b") in replaced
    assert (b"traceparent", b"old") not in replaced


def test_an_event_carries_its_creation_context_as_extension_attributes() -> None:
    context = parse_traceparent(VALID, "k=v")
    assert context is not None
    attributes = {"id": "1", **event_extension(context)}
    assert attributes["traceparent"] == VALID and attributes["tracestate"] == "k=v"
    assert from_event(attributes) == context
    assert from_event({"traceparent": 3}) is None


def test_cloudevent_span_attributes_come_from_binary_headers_or_event_attributes() -> None:
    headers = [(b"Ce-Id", b"e-1"), (b"ce-type", b"order.created"), (b"ce-subject", b"o-7")]
    assert span_attributes_from_headers([*headers, (b"host", b"x")]) == {
        "cloudevents.event_id": "e-1",
        "cloudevents.event_type": "order.created",
        "cloudevents.event_subject": "o-7",
    }
    event = {"id": "e-2", "source": "/orders", "type": "t", "specversion": "1.0"}
    assert span_attributes_from_event(event) == {
        "cloudevents.event_id": "e-2",
        "cloudevents.event_source": "/orders",
        "cloudevents.event_type": "t",
    }
