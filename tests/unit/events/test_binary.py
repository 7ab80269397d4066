"""Binary mode: attributes from ce- headers, data as the body, strict and lazy."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from bulut.errors import InvalidCloudEventError
from bulut.events import CloudEvent, canonical_string, decode_binary, encode_binary
from bulut.events.binary import plain_binary_attributes

from .strategies import events, media_types, timestamps, uri_references

HEADERS = {
    "ce-specversion": "1.0",
    "ce-id": "1",
    "ce-source": "/s",
    "ce-type": "t",
}
HEADERS_AS_ATTRIBUTES = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}


def test_decodes_attributes_from_headers_and_keeps_the_body_as_is() -> None:
    headers = {**HEADERS, "content-type": "application/json", "ce-subject": "a%20b"}
    event = decode_binary(headers, b'{ "a" : 1 }')
    assert event.attributes == {
        **HEADERS_AS_ATTRIBUTES,
        "subject": "a b",
        "datacontenttype": "application/json",
    }
    assert event.data == b'{ "a" : 1 }'


def test_headers_that_are_not_ce_headers_are_ignored() -> None:
    event = decode_binary({**HEADERS, "host": "x", "user-agent": "curl", "cee": "1"}, b"")
    assert event.attributes == HEADERS_AS_ATTRIBUTES


def test_an_empty_body_is_no_data() -> None:
    assert decode_binary(HEADERS, b"").data is None


def test_the_body_is_not_parsed_even_when_it_claims_to_be_json() -> None:
    event = decode_binary({**HEADERS, "content-type": "application/json"}, b"{not json")
    assert event.data == b"{not json"


def test_check_json_data_rejects_a_json_body_that_does_not_parse() -> None:
    headers = {**HEADERS, "content-type": "application/json; charset=utf-8"}
    with pytest.raises(InvalidCloudEventError) as caught:
        decode_binary(headers, b"{not json", check_json_data=True)
    assert caught.value.field == "data"
    decode_binary(headers, b'{"ok": true}', check_json_data=True)
    decode_binary({**HEADERS, "content-type": "text/plain"}, b"{x", check_json_data=True)


def test_knative_extensions_arrive_as_strings_and_go_back_unchanged() -> None:
    headers = {
        **HEADERS,
        "ce-knativearrivaltime": "2026-11-28T04:05:06.2Z",
        "ce-knativebrokerttl": "255",
        "ce-traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    }
    event = decode_binary(headers, b"")
    assert event.get("knativebrokerttl") == "255"
    assert encode_binary(event) == (headers, b"")


@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ("ce-id", "id"),
        ("ce-source", "source"),
        ("ce-specversion", "specversion"),
        ("ce-type", "type"),
    ],
)
def test_a_missing_required_header_is_rejected_the_sdk_would_invent_an_id(
    missing: str, field: str
) -> None:
    headers = {name: value for name, value in HEADERS.items() if name != missing}
    with pytest.raises(InvalidCloudEventError) as caught:
        decode_binary(headers, b"")
    assert caught.value.field == field
    assert f"{field} is required" in caught.value.message


@pytest.mark.parametrize(
    ("header", "value", "field", "complaint"),
    [
        ("ce-specversion", "2.0", "specversion", 'specversion must be "1.0"'),
        ("ce-id", "", "id", "id must be a non-empty string"),
        ("ce-time", "2018-13-05T17:31:00Z", "time", "month 13"),
        ("ce-time", "2018-04-05T17:31:00", "time", "RFC 3339"),
        ("ce-dataschema", "", "dataschema", "non-empty"),
        ("ce-source", "a%20b", "source", "URI-reference"),
        ("ce-subject", "%C0%A0", "subject", "UTF-8"),
        ("ce-My_Ext", "x", "My_Ext", "not a valid attribute name"),
        ("ce-data", "x", "data", "reserved"),
        ("ce-datacontenttype", "text/plain", "datacontenttype", "Content-Type"),
        ("content-type", "xyz", "datacontenttype", "RFC 2046"),
    ],
)
def test_invalid_headers_are_rejected_with_the_attribute_named(
    header: str, value: str, field: str, complaint: str
) -> None:
    with pytest.raises(InvalidCloudEventError) as caught:
        decode_binary({**HEADERS, header: value}, b"")
    assert caught.value.field == field
    assert complaint in caught.value.message


def test_encoding_writes_lower_case_ce_headers_and_content_type() -> None:
    event = CloudEvent(
        {
            **HEADERS_AS_ATTRIBUTES,
            "subject": 'a "b" 100%',
            "datacontenttype": "text/plain",
            "count": 3,
            "flag": False,
        },
        b"hi",
    )
    headers, body = encode_binary(event)
    assert headers == {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": "/s",
        "ce-type": "t",
        "ce-subject": "a%20%22b%22%20100%25",
        "ce-count": "3",
        "ce-flag": "false",
        "content-type": "text/plain",
    }
    assert body == b"hi"


def test_an_event_without_data_or_type_encodes_an_empty_body_and_no_content_type() -> None:
    headers, body = encode_binary(CloudEvent(HEADERS_AS_ATTRIBUTES))
    assert "content-type" not in headers
    assert body == b""


@given(events(typed=False))
def test_binary_round_trips_every_event_with_string_extensions(event: CloudEvent) -> None:
    assert decode_binary(*encode_binary(event)) == event


@given(events())
def test_binary_round_trips_typed_extensions_as_their_canonical_strings(event: CloudEvent) -> None:
    decoded = decode_binary(*encode_binary(event))
    assert decoded.data == event.data
    assert decoded.attributes == {
        name: canonical_string(value) for name, value in event.attributes.items()
    }


def test_long_header_names_are_checked_like_short_ones() -> None:
    long_name = "x" * 100
    assert decode_binary({**HEADERS, f"ce-{long_name}": "v"}, b"").get(long_name) == "v"
    with pytest.raises(InvalidCloudEventError) as caught:
        decode_binary({**HEADERS, f"ce-{long_name}_": "v"}, b"")
    assert caught.value.field == f"{long_name}_"
    long_type = "text/plain; charset=utf-8; " + "p=1; " * 40
    assert decode_binary({**HEADERS, "content-type": long_type}, b"x").datacontenttype == long_type


plain_values = st.from_regex(r"[\x21\x23\x24\x26-\x7e]{1,20}", fullmatch=True)


@given(
    st.fixed_dictionaries(
        {"ce-specversion": st.just("1.0"), "ce-id": plain_values, "ce-source": uri_references,
         "ce-type": plain_values},
        optional={"ce-subject": plain_values, "ce-time": timestamps, "ce-count": plain_values,
                  "ce-knativebrokerttl": st.integers(0, 300).map(str),
                  "content-type": media_types.filter(lambda value: " " not in value)},
    )
)  # fmt: skip
def test_plain_attributes_are_what_decoding_reads(headers: dict[str, str]) -> None:
    ce = [(name.encode(), value.encode()) for name, value in headers.items() if name[:3] == "ce-"]
    content_type = headers.get("content-type")
    plain = plain_binary_attributes(ce, None if content_type is None else content_type.encode())
    try:
        decoded = dict(decode_binary(headers, b"").attributes)
    except InvalidCloudEventError:
        assert plain is None, "the full decoder refuses it: the plain path must not take it"
        return
    assert plain == decoded
    assert list(plain) == list(decoded)


@pytest.mark.parametrize(
    "value", [b"a b", b"a%20b", b'"a"', "\u00e9".encode(), b"tab\there", b"\x7f"]
)
def test_values_binary_mode_encodes_are_not_plain(value: bytes) -> None:
    ce = [(f"ce-{name}".encode(), value.encode()) for name, value in HEADERS_AS_ATTRIBUTES.items()]
    assert plain_binary_attributes(ce, None) is not None
    assert plain_binary_attributes([*ce, (b"ce-subject", value)], None) is None
