"""Structured and batched modes: the JSON event format, data vs data_base64, strictness."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, strategies as st

from bulut.errors import InvalidCloudEventError
from bulut.events import (
    CloudEvent,
    decode_batch,
    decode_structured,
    encode_batch,
    encode_structured,
    event_from_json,
    to_json_dict,
)

from .strategies import events

MINIMAL: dict[str, Any] = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}
BIG = 123456789012345678901234567890


def body(**members: Any) -> bytes:
    return json.dumps({**MINIMAL, **members}).encode()


def test_json_data_is_kept_as_a_value_and_given_as_compact_bytes() -> None:
    event = decode_structured(body(data={"a": [1, 2]}))
    assert event.data == b'{"a":[1,2]}'
    assert event.json() == {"a": [1, 2]}
    assert event.datacontenttype is None


def test_a_string_under_a_text_type_is_its_utf8_bytes() -> None:
    event = decode_structured(body(datacontenttype="text/plain", data="héllo"))
    assert event.data == "héllo".encode()


def test_a_string_under_a_json_type_is_a_json_string() -> None:
    event = decode_structured(body(datacontenttype="application/json", data="hi"))
    assert event.data == b'"hi"'
    assert event.json() == "hi"


def test_data_base64_is_decoded() -> None:
    event = decode_structured(body(datacontenttype="image/png", data_base64="AAEC"))
    assert event.data == b"\x00\x01\x02"


def test_null_data_and_null_attributes_are_absent() -> None:
    event = decode_structured(body(data=None, subject=None, myext=None))
    assert event.data is None
    assert event.attributes == MINIMAL


def test_extensions_keep_their_json_types() -> None:
    event = decode_structured(body(extinteger=10, extboolean=True, extstring="text"))
    assert event.attributes["extinteger"] == 10
    assert event.attributes["extboolean"] is True


def test_big_integers_in_data_are_kept_exactly() -> None:
    event = decode_structured(body(data={"n": BIG, "f": 0.1}))
    assert event.json() == {"n": BIG, "f": 0.1}
    assert f'"n":{BIG}'.encode() in encode_structured(event)[1]
    assert event.data == f'{{"n":{BIG},"f":0.1}}'.encode()


@pytest.mark.parametrize(
    ("members", "field", "complaint"),
    [
        ({"data": "x", "data_base64": "eA=="}, "data_base64", "mutually exclusive"),
        ({"data_base64": "not base64!"}, "data_base64", "not valid base64"),
        ({"data_base64": "eA="}, "data_base64", "not valid base64"),
        ({"data_base64": 12}, "data_base64", "base64 string"),
        ({"id": 25}, "id", "id must be a string"),
        ({"id": None}, "id", "id is required"),
        ({"specversion": "0.3"}, "specversion", 'specversion must be "1.0"'),
        ({"specversion": 1.0}, "specversion", "specversion must be a string"),
        ({"source": "a b"}, "source", "URI-reference"),
        ({"time": "2018-04-05T18:31:00+25:00"}, "time", "offset"),
        ({"subject": 5}, "subject", "subject must be a string"),
        ({"MyExt": 1}, "MyExt", "not a valid attribute name"),
        ({"ext": 1.5}, "ext", "string, boolean or 32-bit integer"),
        ({"ext": 2**31}, "ext", "32-bit"),
        ({"ext": {"a": 1}}, "ext", "string, boolean or 32-bit integer"),
    ],
)
def test_invalid_members_are_rejected_naming_the_attribute(
    members: dict[str, Any], field: str, complaint: str
) -> None:
    with pytest.raises(InvalidCloudEventError) as caught:
        decode_structured(body(**members))
    assert caught.value.field == field
    assert complaint in caught.value.message


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [(b"{", "not valid JSON"), (b"[]", "must be a JSON object"), (b'"x"', "JSON object")],
)
def test_a_body_that_is_not_a_json_object_is_rejected(raw: bytes, complaint: str) -> None:
    with pytest.raises(InvalidCloudEventError, match=complaint):
        decode_structured(raw)


def test_check_json_data_parses_base64_data_of_a_json_type() -> None:
    bad = body(datacontenttype="application/json", data_base64="e3g=")  # "{x"
    decode_structured(bad)
    with pytest.raises(InvalidCloudEventError) as caught:
        decode_structured(bad, check_json_data=True)
    assert caught.value.field == "data"


def test_event_from_json_leaves_the_callers_object_alone() -> None:
    obj = {**MINIMAL, "data": [1], "subject": None}
    event_from_json(obj)
    assert obj == {**MINIMAL, "data": [1], "subject": None}


@pytest.mark.parametrize(
    ("content_type", "data", "member", "value"),
    [
        (None, b'{"a": 1}', "data", {"a": 1}),
        ("application/json", b"[1]", "data", [1]),
        ("application/json", b"{oops", "data_base64", "e29vcHM="),
        (None, b"\x00\xff", "data_base64", "AP8="),
        ("text/plain", "héllo".encode(), "data", "héllo"),
        ("text/plain", b"\xff", "data_base64", "/w=="),
        ("application/octet-stream", b"abc", "data_base64", "YWJj"),
    ],
)
def test_to_json_dict_chooses_data_or_data_base64_by_content_type(
    content_type: str | None, data: bytes, member: str, value: object
) -> None:
    event = CloudEvent({**MINIMAL, "datacontenttype": content_type}, data)
    obj = to_json_dict(event)
    assert obj[member] == value
    other = "data_base64" if member == "data" else "data"
    assert other not in obj


def test_structured_encoding_puts_required_attributes_first_with_a_charset() -> None:
    headers, raw = encode_structured(
        CloudEvent({"type": "t", "source": "/s", "id": "1", "specversion": "1.0", "x": 1})
    )
    assert headers == {"content-type": "application/cloudevents+json; charset=utf-8"}
    assert raw == b'{"specversion":"1.0","id":"1","source":"/s","type":"t","x":1}'


def test_a_structured_event_re_encodes_its_data_as_it_came() -> None:
    raw = body(datacontenttype="application/octet-stream", data="kept as a string")
    assert json.loads(encode_structured(decode_structured(raw))[1]) == json.loads(raw)


def test_batches_decode_to_lists_and_encode_as_json_arrays() -> None:
    raw = json.dumps([MINIMAL, {**MINIMAL, "id": "2", "data": 1}]).encode()
    batch = decode_batch(raw)
    assert [event.id for event in batch] == ["1", "2"]
    headers, encoded = encode_batch(batch)
    assert headers == {"content-type": "application/cloudevents-batch+json; charset=utf-8"}
    assert json.loads(encoded) == json.loads(raw)
    assert decode_batch(b"[]") == []


@pytest.mark.parametrize(
    ("raw", "complaint", "field"),
    [
        (b"{}", "a batch must be a JSON array", None),
        (b"[1]", "batch event 0: a structured event must be a JSON object", None),
        (json.dumps([MINIMAL, {**MINIMAL, "type": ""}]).encode(), "batch event 1: type", "type"),
    ],
)
def test_invalid_batches_are_rejected_naming_the_event_and_attribute(
    raw: bytes, complaint: str, field: str | None
) -> None:
    with pytest.raises(InvalidCloudEventError) as caught:
        decode_batch(raw)
    assert complaint in caught.value.message
    assert caught.value.field == field


@given(events())
def test_structured_round_trips_every_event(event: CloudEvent) -> None:
    assert decode_structured(encode_structured(event)[1]) == event


@given(st.lists(events(), max_size=4))
def test_batches_round_trip(batch: list[CloudEvent]) -> None:
    assert decode_batch(encode_batch(batch)[1]) == batch


def test_events_with_many_or_long_names_are_checked_like_any_other() -> None:
    many = {f"ext{index}": index for index in range(40)}
    assert decode_structured(body(**many)).attributes["ext39"] == 39
    long_name = "x" * 100
    assert decode_structured(body(**{long_name: "v"})).get(long_name) == "v"
    with pytest.raises(InvalidCloudEventError) as caught:
        decode_structured(body(**{"X" * 100: "v"}))
    assert caught.value.field == "X" * 100


def test_a_long_source_is_checked_like_a_short_one() -> None:
    assert decode_structured(body(source="/" + "a" * 1000)).source == "/" + "a" * 1000
    with pytest.raises(InvalidCloudEventError) as caught:
        decode_structured(body(source="/" + "a" * 1000 + " "))
    assert caught.value.field == "source"
