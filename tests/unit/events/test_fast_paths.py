"""The decoders' fast paths check exactly what the member-by-member checks do.

Structured decoding takes a fast path for the common event (string attributes whose
source, media type and schema passed the full checks before, a time one regex accepts)
and falls back to the member-by-member checks of ``event_from_json`` for the rest. These
tests warm the fast path up, then break every MUST and compare the outcome with the
member-by-member checks: same acceptance, same ``field``, same message.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, strategies as st

from bulut.errors import InvalidCloudEventError
from bulut.events import (
    CloudEvent,
    decode,
    decode_batch,
    decode_structured,
    encode_batch,
    encode_structured,
    event_from_json,
    to_json_dict,
)
from bulut.events.attributes import KNOWN_SCHEMAS, KNOWN_SOURCES, MEMO_MAX_LENGTH, check_string
from bulut.events.binding import _MODES
from bulut.events.media_types import KNOWN_MEDIA_TYPES, is_media_type
from bulut.events.structured import _SHAPES, _SHAPES_MAX
from bulut.events.timestamps import (
    _SHAPE,
    QUICK_TIMESTAMP,
    _range_problem,
    is_timestamp,
    timestamp_problem,
)
from bulut.events.verdicts import KnownValid

from .strategies import events

#: A Knative-shaped event, as the benchmark decodes it.
KNATIVE: dict[str, Any] = {
    "specversion": "1.0",
    "id": "8c6b2d1e-4a5f-4e7b-9d10-2f4e6a8b0c12",
    "source": "/apis/v1/namespaces/shop/orders",
    "type": "dev.bulut.order.created",
    "time": "2026-11-28T04:05:06.123456Z",
    "subject": "ord-1029",
    "dataschema": "https://example.com/order.json",
    "knativearrivaltime": "2026-11-28T04:05:06.2Z",
    "knativebrokerttl": "255",
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "datacontenttype": "application/json",
    "data": {"order": {"id": "ord-1029", "items": [{"sku": "A-1", "qty": 2}]}},
}

Outcome = tuple[str, object, object]


def outcome_of_decode(obj: object) -> Outcome:
    """What structured decoding (fast path first) makes of the JSON object ``obj``."""
    try:
        event = decode_structured(json.dumps(obj).encode())
    except InvalidCloudEventError as error:
        return ("rejected", error.field, error.message)
    return ("accepted", dict(event.attributes), event.data)


def outcome_of_members(obj: object) -> Outcome:
    """What the member-by-member checks (``event_from_json``) make of ``obj``."""
    try:
        event = event_from_json(json.loads(json.dumps(obj)))
    except InvalidCloudEventError as error:
        return ("rejected", error.field, error.message)
    return ("accepted", dict(event.attributes), event.data)


def warm(obj: dict[str, Any]) -> None:
    """Decode ``obj`` twice so its shape and its source, media type and schema are known."""
    for _ in range(2):
        decode_structured(json.dumps(obj).encode())


#: Each MUST broken on a warm shape: (member, value, field, part of the message).
BROKEN: list[tuple[str, object, str, str]] = [
    ("id", "", "id", "id must be a non-empty string"),
    ("id", 25, "id", "id must be a string"),
    ("id", None, "id", "id is required but missing"),
    ("source", "", "source", "source must be a non-empty string"),
    ("source", "a b", "source", "source must be a URI-reference"),
    ("source", "/bad%zz", "source", "'%' not followed by two hex digits"),
    ("source", 7, "source", "source must be a string"),
    ("specversion", "0.3", "specversion", 'specversion must be "1.0"'),
    ("specversion", "", "specversion", 'specversion must be "1.0"'),
    ("specversion", 1.0, "specversion", "specversion must be a string"),
    ("type", "", "type", "type must be a non-empty string"),
    ("type", ["t"], "type", "type must be a string"),
    ("time", "lunchtime", "time", "not an RFC 3339 timestamp"),
    ("time", "2026-02-29T00:00:00Z", "time", "has 28 days"),
    ("time", "2026-04-31T00:00:00Z", "time", "has 30 days"),
    ("time", "2026-11-28T24:00:00Z", "time", "hour 24"),
    ("time", "2026-11-28T04:05:06+05:60", "time", "offset 05:60"),
    ("time", "", "time", "time must be a non-empty string"),
    ("time", 5, "time", "time must be a string"),
    ("subject", "", "subject", "subject must be a non-empty string"),
    ("subject", 5, "subject", "subject must be a string"),
    ("dataschema", "/relative", "dataschema", "absolute URI with a scheme"),
    ("dataschema", "", "dataschema", "dataschema must be a non-empty string"),
    ("datacontenttype", "xyz", "datacontenttype", "RFC 2046 media type"),
    ("datacontenttype", "", "datacontenttype", "datacontenttype must be a non-empty string"),
    ("datacontenttype", {}, "datacontenttype", "datacontenttype must be a string"),
    ("knativebrokerttl", 1.5, "knativebrokerttl", "string, boolean or 32-bit integer"),
    ("knativebrokerttl", 2**31, "knativebrokerttl", "32-bit"),
    ("knativebrokerttl", [], "knativebrokerttl", "string, boolean or 32-bit integer"),
    ("data_base64", "eA==", "data_base64", "mutually exclusive"),
]


@pytest.mark.parametrize(("member", "value", "field", "complaint"), BROKEN)
def test_every_must_is_enforced_on_a_warm_shape(
    member: str, value: object, field: str, complaint: str
) -> None:
    warm(KNATIVE)
    broken = {**KNATIVE, member: value}
    verdict, got_field, message = outcome_of_decode(broken)
    assert verdict == "rejected"
    assert got_field == field
    assert isinstance(message, str)
    assert complaint in message
    assert outcome_of_members(broken) == (verdict, got_field, message)


@pytest.mark.parametrize("member", ["id", "source", "specversion", "type"])
def test_a_missing_required_attribute_is_named_on_a_warm_shape(member: str) -> None:
    warm(KNATIVE)
    broken = {name: value for name, value in KNATIVE.items() if name != member}
    warm({**broken, member: KNATIVE[member]})  # the same names in another order
    assert outcome_of_decode(broken) == (
        "rejected",
        member,
        f"{member} is required but missing",
    )


def test_an_illegal_name_is_rejected_on_every_event_not_only_the_first() -> None:
    bad = {**KNATIVE, "MyExt": "x"}
    for _ in range(3):
        assert outcome_of_decode(bad)[:2] == ("rejected", "MyExt")


def test_values_that_only_the_full_checks_accept_still_pass() -> None:
    warm(KNATIVE)
    for member, value in [
        ("time", "2024-02-29T00:00:00Z"),  # leap day: the quick regex leaves it out
        ("time", "0000-01-01T00:00:00Z"),
        ("time", "2016-12-31T23:59:60Z"),
        ("source", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"),  # new to the memory
        ("datacontenttype", "application/vnd.example+json; charset=utf-8"),
        ("dataschema", "urn:example:schema"),
        ("source", "/" + "a" * (MEMO_MAX_LENGTH + 10)),  # too long to remember
    ]:
        good = {**KNATIVE, member: value}
        verdict, attributes, _ = outcome_of_decode(good)
        assert verdict == "accepted"
        assert isinstance(attributes, dict)
        assert attributes[member] == value
        assert outcome_of_decode(good) == outcome_of_members(good)


def test_nulls_booleans_and_integers_on_a_warm_shape_take_the_member_checks() -> None:
    warm(KNATIVE)
    typed = {**KNATIVE, "subject": None, "knativebrokerttl": 255, "traceparent": True}
    event = decode_structured(json.dumps(typed).encode())
    assert "subject" not in event.attributes
    assert event.attributes["knativebrokerttl"] == 255
    assert event.attributes["traceparent"] is True
    assert outcome_of_decode(typed) == outcome_of_members(typed)


def test_the_fast_path_keeps_the_data_value_and_the_body_for_exact_rereads() -> None:
    warm(KNATIVE)
    big = {**KNATIVE, "data": {"n": 123456789012345678901234567890}}
    event = decode_structured(json.dumps(big).encode())
    assert event.json() == {"n": 123456789012345678901234567890}
    assert b"123456789012345678901234567890" in encode_structured(event)[1]


def test_batches_take_the_fast_path_and_name_the_broken_event() -> None:
    warm(KNATIVE)
    batch = [KNATIVE, {**KNATIVE, "id": "2"}, {**KNATIVE, "time": "2026-13-01T00:00:00Z"}]
    with pytest.raises(InvalidCloudEventError) as caught:
        decode_batch(json.dumps(batch).encode())
    assert caught.value.field == "time"
    assert caught.value.message.startswith("batch event 2: time has month 13")
    assert [event.id for event in decode_batch(json.dumps(batch[:2]).encode())] == [
        KNATIVE["id"],
        "2",
    ]


BIG = 123456789012345678901234567890


def test_batched_data_is_kept_exact_when_the_batch_holds_big_integers() -> None:
    batch = [
        {**KNATIVE, "id": "1", "data": {"total": 129.5}},
        {**KNATIVE, "id": "2", "data": {"n": BIG, "f": 0.1}},
        {**KNATIVE, "id": "3", "data": [BIG]},
    ]
    raw = json.dumps(batch).encode()
    first, second, third = decode_batch(raw)
    assert second.json() == {"n": BIG, "f": 0.1}
    assert second.data == f'{{"n":{BIG},"f":0.1}}'.encode()
    assert third.json_value == [BIG]
    assert first.json() == {"total": 129.5}
    assert json.loads(encode_batch([first, second, third])[1]) == batch
    assert second.with_attributes(subject="changed").json() == {"n": BIG, "f": 0.1}


def test_a_batch_without_long_numbers_keeps_the_values_it_was_read_into() -> None:
    batch = [{**KNATIVE, "id": str(index), "data": {"index": index}} for index in range(3)]
    events = decode_batch(json.dumps(batch).encode())
    values = [event.json_value for event in events]
    assert values == [{"index": index} for index in range(3)]
    assert [event.data for event in events] == [b'{"index":%d}' % i for i in range(3)]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_a_batch_is_strict_json_even_when_it_holds_big_integers(literal: str) -> None:
    raw = json.dumps([{**KNATIVE, "data": {"n": BIG}}]).encode()
    bad = raw.replace(b'"n": ', f'"x": {literal}, "n": '.encode())
    with pytest.raises(InvalidCloudEventError, match="the batch body is not valid JSON"):
        decode_batch(bad)


_BAD_VALUES: st.SearchStrategy[object] = st.sampled_from(
    [
        "",
        "a b",
        "0.3",
        "1.0",
        "/s",
        "xyz",
        "text/plain",
        "/relative",
        "https://example.com/s",
        "lunchtime",
        "2018-02-29T00:00:00Z",
        "2016-02-29T00:00:00Z",
        "2018-04-05T18:31:00+05:60",
        "2018-04-05t18:31:00.5z",
        "eA==",
        "not base64!",
        0,
        5,
        2**31,
        -(2**31),
        1.5,
        True,
        None,
        [],
        {},
        {"a": 1},
    ]
)
_MEMBERS = st.sampled_from(
    [
        "id",
        "source",
        "specversion",
        "type",
        "time",
        "subject",
        "datacontenttype",
        "dataschema",
        "data",
        "data_base64",
        "ext",
        "Bad",
    ]
)


@given(events(), st.lists(st.tuples(_MEMBERS, _BAD_VALUES | st.just(...)), max_size=3))
def test_decoding_agrees_with_the_member_checks_on_broken_events(
    event: CloudEvent, changes: list[tuple[str, object]]
) -> None:
    obj = to_json_dict(event)
    warm(obj)
    for member, value in changes:
        if value is ...:
            obj.pop(member, None)  # delete the member
        else:
            obj[member] = value
    assert outcome_of_decode(obj) == outcome_of_members(obj)


# ---------------------------------------------------------------------- timestamps
_YEARS = ["0000", "1900", "2000", "2023", "2024", "9999"]
_TWO_DIGITS = [f"{number:02d}" for number in range(100)]


def exact(value: str) -> bool:
    """The exact RFC 3339 rule, without the quick regex: the shape, then the ranges."""
    return _SHAPE(value) is not None and _range_problem(value) is None


def test_the_quick_timestamp_regex_accepts_only_valid_dates() -> None:
    for year in _YEARS:
        for month in _TWO_DIGITS[:14]:
            for day in _TWO_DIGITS[:33]:
                value = f"{year}-{month}-{day}T12:00:00Z"
                if QUICK_TIMESTAMP(value):
                    assert exact(value), value
                elif exact(value):  # only February 29 is left to the exact checks
                    assert (month, day) == ("02", "29"), value
                assert is_timestamp(value) is exact(value), value


def test_the_quick_timestamp_regex_accepts_only_valid_times_and_offsets() -> None:
    offsets = ["Z", "z", "+00:00", "-23:59", "+24:00", "+05:60", "+5:30", "+05", ""]
    for hour in _TWO_DIGITS[:26]:
        for minute in ["00", "59", "60", "99"]:
            for second in ["00", "59", "60", "61"]:
                for fraction in ["", ".5", ".123456789012", "."]:
                    for offset in offsets:
                        value = f"2026-11-28T{hour}:{minute}:{second}{fraction}{offset}"
                        quick = QUICK_TIMESTAMP(value) is not None
                        assert quick is exact(value), value
                        assert is_timestamp(value) is exact(value), value


@given(st.text(alphabet="0123456789-:.TtZz+ ", min_size=18, max_size=32))
def test_the_quick_timestamp_regex_never_accepts_what_the_exact_rule_rejects(
    value: str,
) -> None:
    if QUICK_TIMESTAMP(value):
        assert exact(value)
    assert is_timestamp(value) is exact(value)
    assert (timestamp_problem(value) is None) is exact(value)


# ---------------------------------------------------------------------- memories
def test_a_memory_keeps_short_values_only_and_empties_itself_when_full() -> None:
    memory = KnownValid(max_length=5, max_size=3)
    memory.remember("toolong")
    assert not memory.contains("toolong")
    for value in ["a", "b", "c"]:
        memory.remember(value)
    assert len(memory) == 3
    memory.remember("d")
    assert len(memory) == 1
    assert memory.contains("d")
    assert not memory.contains("a")


def test_only_values_that_passed_are_remembered() -> None:
    for bad in ["a b", "/bad%zz", ""]:
        with pytest.raises(InvalidCloudEventError):
            check_string("source", bad)
        assert not KNOWN_SOURCES.contains(bad)
    with pytest.raises(InvalidCloudEventError):
        check_string("dataschema", "/relative")
    assert not KNOWN_SCHEMAS.contains("/relative")
    assert not is_media_type("xyz")
    assert not KNOWN_MEDIA_TYPES.contains("xyz")
    check_string("source", "/remembered")
    assert KNOWN_SOURCES.contains("/remembered")


def test_many_producers_do_not_grow_the_memories_without_bound() -> None:
    for index in range(2 * _SHAPES_MAX):
        obj = {**KNATIVE, f"ext{index}": "x", "source": f"/producer/{index}"}
        decode_structured(json.dumps(obj).encode())
    assert len(_SHAPES) <= _SHAPES_MAX
    assert len(KNOWN_SOURCES) <= 512


def test_decode_remembers_modes_but_still_rejects_unsupported_formats() -> None:
    body = json.dumps(KNATIVE).encode()
    for _ in range(2):
        assert isinstance(
            decode({"content-type": "application/cloudevents+json"}, body), CloudEvent
        )
        with pytest.raises(InvalidCloudEventError, match="unsupported event format"):
            decode({"content-type": "application/cloudevents+avro"}, body)
    assert "application/cloudevents+avro" not in _MODES
    assert len(_MODES) <= 256
