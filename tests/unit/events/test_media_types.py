"""datacontenttype rules: RFC 2046 shape, and which types carry JSON or text."""

from __future__ import annotations

import pytest

from bulut.errors import InvalidCloudEventError
from bulut.events.media_types import (
    check_media_type,
    is_json_media_type,
    is_media_type,
    is_text_media_type,
)


@pytest.mark.parametrize(
    "value",
    [
        "text/plain",
        "application/json",
        "application/cloudevents+json; charset=utf-8",
        "text/plain;charset=UTF-8",
        "application/vnd.apache.avro+binary",
        "image/svg+xml",
    ],
)
def test_accepts_type_slash_subtype_with_optional_parameters(value: str) -> None:
    assert is_media_type(value)
    check_media_type("datacontenttype", value)


@pytest.mark.parametrize("value", ["xyz", "", "text/", "/plain", "text plain", "text/plain\n"])
def test_rejects_strings_that_are_not_media_types_naming_the_attribute(value: str) -> None:
    assert not is_media_type(value)
    with pytest.raises(InvalidCloudEventError) as caught:
        check_media_type("datacontenttype", value)
    assert caught.value.field == "datacontenttype"
    assert "RFC 2046" in caught.value.message


@pytest.mark.parametrize(
    ("value", "is_json"),
    [
        (None, True),
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("text/json", True),
        ("application/vnd.api+json", True),
        ("text/plain", False),
        ("application/octet-stream", False),
        ("application/jsonx", False),
    ],
)
def test_json_content_is_json_any_json_or_plus_json_or_no_type(
    value: str | None, is_json: bool
) -> None:
    assert is_json_media_type(value) is is_json


@pytest.mark.parametrize(
    ("value", "is_text"),
    [
        ("text/plain", True),
        ("text/csv; charset=utf-8", True),
        ("application/xml", True),
        ("image/svg+xml", True),
        ("application/octet-stream", False),
        (None, False),
    ],
)
def test_text_content_is_text_or_xml(value: str | None, is_text: bool) -> None:
    assert is_text_media_type(value) is is_text
