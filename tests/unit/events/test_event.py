"""The CloudEvent value: typed attributes, payload bytes, JSON access, copies with changes."""

from __future__ import annotations

import uuid

import pytest

from bulut.errors import InvalidCloudEventError
from bulut.events import CloudEvent, decode_structured, new_event
from bulut.events.timestamps import is_timestamp

MINIMAL = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}


def test_new_event_fills_a_uuid_id_and_the_current_time() -> None:
    event = new_event(type="dev.bulut.test", source="/tests")
    assert uuid.UUID(event.id).version == 4
    assert event.time is not None
    assert is_timestamp(event.time)
    assert (event.specversion, event.type, event.source) == ("1.0", "dev.bulut.test", "/tests")


def test_new_event_keeps_an_explicit_id_and_time() -> None:
    event = new_event(type="t", source="/s", id="abc", time="2018-04-05T17:31:00Z")
    assert (event.id, event.time) == ("abc", "2018-04-05T17:31:00Z")


def test_new_event_json_encodes_objects_as_application_json() -> None:
    event = new_event(type="t", source="/s", data={"b": [1, 2], "a": "é"})
    assert event.datacontenttype == "application/json"
    assert event.data == '{"b":[1,2],"a":"é"}'.encode()
    assert event.json() == {"b": [1, 2], "a": "é"}


def test_new_event_keeps_bytes_as_they_are() -> None:
    event = new_event(type="t", source="/s", data=b"\x00\x01", datacontenttype="image/png")
    assert (event.data, event.datacontenttype) == (b"\x00\x01", "image/png")


def test_new_event_encodes_text_under_a_text_type_as_utf8() -> None:
    event = new_event(type="t", source="/s", data="héllo", datacontenttype="text/plain")
    assert event.data == "héllo".encode()


def test_new_event_json_encodes_a_string_without_a_type() -> None:
    event = new_event(type="t", source="/s", data="hello")
    assert (event.data, event.datacontenttype) == (b'"hello"', "application/json")


def test_new_event_takes_typed_extensions() -> None:
    event = new_event(type="t", source="/s", knativebrokerttl=255, sampled=True, tenant="a")
    assert event.get("knativebrokerttl") == 255
    assert event.get("sampled") is True
    assert event.attributes["tenant"] == "a"


def test_new_event_validates_like_a_decoder() -> None:
    with pytest.raises(InvalidCloudEventError) as caught:
        new_event(type="t", source="/s", time="yesterday")
    assert caught.value.field == "time"
    with pytest.raises(InvalidCloudEventError) as caught:
        new_event(type="t", source="/s", Bad=1)
    assert caught.value.field == "Bad"
    with pytest.raises(InvalidCloudEventError) as caught:
        new_event(type="", source="/s")
    assert caught.value.field == "type"


def test_optional_attributes_read_as_none_when_absent() -> None:
    event = CloudEvent(MINIMAL)
    assert (event.subject, event.time, event.dataschema, event.datacontenttype) == (None,) * 4
    assert event.data is None
    assert event.json() is None
    assert event.get("missing", "fallback") == "fallback"


def test_attributes_are_read_only() -> None:
    event = CloudEvent(MINIMAL)
    with pytest.raises(TypeError):
        event.attributes["id"] = "2"  # type: ignore[index]
    with pytest.raises(AttributeError):
        event.id = "2"  # type: ignore[misc]


def test_the_constructor_rejects_what_the_spec_forbids() -> None:
    with pytest.raises(InvalidCloudEventError) as caught:
        CloudEvent({**MINIMAL, "specversion": "0.3"})
    assert caught.value.field == "specversion"
    with pytest.raises(InvalidCloudEventError) as caught:
        CloudEvent(MINIMAL, "text")  # type: ignore[arg-type]
    assert caught.value.field == "data"


def test_with_attributes_sets_validates_and_removes() -> None:
    event = CloudEvent({**MINIMAL, "subject": "a"}, b"payload")
    changed = event.with_attributes(subject=None, knativebrokerttl=255, id="2")
    assert changed.attributes == {**MINIMAL, "id": "2", "knativebrokerttl": 255}
    assert changed.data == b"payload"
    assert event.subject == "a"  # the original is untouched
    with pytest.raises(InvalidCloudEventError) as caught:
        event.with_attributes(id=None)
    assert caught.value.field == "id"
    with pytest.raises(InvalidCloudEventError) as caught:
        event.with_attributes(time="noon")
    assert caught.value.field == "time"


def test_changing_the_content_type_of_a_structured_event_keeps_its_bytes() -> None:
    event = decode_structured(b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":[1]}')
    text = event.with_attributes(datacontenttype="text/plain")
    assert text.data == b"[1]"
    assert text.json_value is None


def test_json_raises_naming_data_when_the_payload_is_not_json() -> None:
    event = CloudEvent(MINIMAL, b"not json")
    with pytest.raises(InvalidCloudEventError) as caught:
        event.json()
    assert caught.value.field == "data"


def test_json_returns_a_fresh_copy_of_a_structured_value() -> None:
    event = decode_structured(
        b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"a":[1]}}'
    )
    value = event.json()
    value["a"].append(2)
    assert event.json() == {"a": [1]}


def test_events_with_the_same_attributes_and_data_are_equal() -> None:
    assert CloudEvent(MINIMAL, b"x") == CloudEvent(dict(MINIMAL), b"x")
    assert CloudEvent(MINIMAL, b"x") != CloudEvent(MINIMAL, b"y")
    assert len({CloudEvent(MINIMAL), CloudEvent(MINIMAL)}) == 1
    assert CloudEvent(MINIMAL) != "not an event"


def test_repr_names_the_event_without_dumping_data() -> None:
    text = repr(CloudEvent(MINIMAL, b"12345"))
    assert "type='t'" in text
    assert "5 bytes" in text
