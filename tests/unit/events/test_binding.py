"""Mode detection: Content-Type picks binary, structured or batched."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from bulut.errors import InvalidCloudEventError
from bulut.events import CloudEvent, decode, encode_binary, encode_structured, headers_from_asgi
from bulut.events.binding import Mode, mode_of

MINIMAL = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}
STRUCTURED = json.dumps({**MINIMAL, "data": {"a": 1}}).encode()


@pytest.mark.parametrize(
    ("content_type", "mode"),
    [
        (None, Mode.BINARY),
        ("application/json", Mode.BINARY),
        ("text/plain", Mode.BINARY),
        ("application/cloudevents+json", Mode.STRUCTURED),
        ("Application/CloudEvents+JSON; charset=UTF-8", Mode.STRUCTURED),
        ("application/cloudevents", Mode.STRUCTURED),
        ("application/cloudevents-batch+json", Mode.BATCHED),
        ("APPLICATION/CLOUDEVENTS-BATCH+JSON; charset=utf-8", Mode.BATCHED),
    ],
)
def test_content_type_selects_the_mode(content_type: str | None, mode: Mode) -> None:
    assert mode_of(content_type) is mode


def test_other_structured_formats_are_rejected() -> None:
    with pytest.raises(InvalidCloudEventError, match="unsupported event format"):
        mode_of("application/cloudevents+avro")


def test_decode_reads_a_structured_body_and_ignores_ce_headers() -> None:
    headers = {"content-type": "application/cloudevents+json", "ce-id": "ignored"}
    event = decode(headers, STRUCTURED)
    assert isinstance(event, CloudEvent)
    assert (event.id, event.json()) == ("1", {"a": 1})


def test_decode_reads_binary_mode_from_asgi_headers() -> None:
    raw = [
        (b"Content-Type", b"application/json"),
        (b"CE-SpecVersion", b"1.0"),
        (b"Ce-Id", b"1"),
        (b"ce-source", b"/s"),
        (b"ce-type", b"t"),
    ]
    event = decode(headers_from_asgi(raw), b'{"a":1}')
    assert isinstance(event, CloudEvent)
    assert event.attributes == {**MINIMAL, "datacontenttype": "application/json"}


def test_decode_gives_a_list_for_a_batch() -> None:
    batch = decode({"content-type": "application/cloudevents-batch+json"}, b"[]")
    assert batch == []


def test_decode_can_insist_that_json_data_parses() -> None:
    headers = {
        **{f"ce-{name}": value for name, value in MINIMAL.items()},
        "content-type": "application/json",
    }
    with pytest.raises(InvalidCloudEventError) as caught:
        decode(headers, b"{", check_json_data=True)
    assert caught.value.field == "data"


def test_an_event_survives_binary_to_structured_to_binary() -> None:
    headers = {
        **{f"ce-{name}": value for name, value in MINIMAL.items()},
        "ce-knativearrivaltime": "2026-11-28T04:05:06.2Z",
        "ce-knativebrokerttl": "255",
        "content-type": "application/json",
    }
    first = decode(headers, b'{"a":1}')
    assert isinstance(first, CloudEvent)
    second = decode(*encode_structured(first))
    assert isinstance(second, CloudEvent)
    assert encode_binary(second) == (headers, b'{"a":1}')


header_names = st.sampled_from(
    [
        "ce-id",
        "ce-source",
        "ce-specversion",
        "ce-type",
        "ce-time",
        "ce-subject",
        "ce-x",
        "ce-",
        "ce-Bad",
        "ce-data",
        "content-type",
        "host",
    ]
)
header_values = st.text(st.characters(max_codepoint=0xFF), max_size=12) | st.sampled_from(
    ["1.0", "/s", "2018-04-05T17:31:00Z", "%", "%C0%A0", '"', "application/cloudevents+json"]
)


@given(st.dictionaries(header_names, header_values), st.binary(max_size=16))
def test_decode_either_returns_an_event_or_raises_invalid_cloud_event(
    headers: dict[str, str], body: bytes
) -> None:
    try:
        decode(headers, body)
    except InvalidCloudEventError as error:
        assert error.message


@given(
    st.dictionaries(
        st.sampled_from([*MINIMAL, "data", "data_base64", "time", "ext", "X"]),
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    )
)
def test_any_json_object_either_decodes_or_raises_invalid_cloud_event(
    members: dict[str, object],
) -> None:
    try:
        decode({"content-type": "application/cloudevents+json"}, json.dumps(members).encode())
    except InvalidCloudEventError as error:
        assert error.message
