"""Context attributes: legal names, typed values and the MUST rules of each core attribute."""

from __future__ import annotations

import pytest

from bulut.errors import InvalidCloudEventError
from bulut.events.attributes import (
    canonical_string,
    check_name,
    check_string,
    check_value,
    is_valid_name,
    validate,
)

MINIMAL = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}


@pytest.mark.parametrize("name", ["a", "knativearrivaltime", "ext1", "123", "traceparent"])
def test_lower_case_letters_and_digits_make_a_name(name: str) -> None:
    assert is_valid_name(name)
    check_name(name)


@pytest.mark.parametrize("name", ["MyExtension", "my.extension", "my_ext", "", "ümlaut", "a-b"])
def test_anything_else_is_not_a_name_and_the_error_names_it(name: str) -> None:
    assert not is_valid_name(name)
    with pytest.raises(InvalidCloudEventError) as caught:
        check_name(name)
    assert caught.value.field == name
    assert "a-z" in caught.value.message


def test_data_is_a_reserved_name() -> None:
    with pytest.raises(InvalidCloudEventError, match="reserved"):
        check_name("data")


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("specversion", "0.9", 'specversion must be "1.0"'),
        ("specversion", "", 'specversion must be "1.0"'),
        ("id", "", "id must be a non-empty string"),
        ("type", "", "type must be a non-empty string"),
        ("subject", "", "subject must be a non-empty string"),
        ("source", "", "source must be a non-empty string"),
        ("source", "has space", "source must be a URI-reference"),
        ("source", "bad%zzescape", "'%' not followed by two hex digits"),
        ("source", "/ünïcode", "source must be a URI-reference"),
        ("dataschema", "", "dataschema must be a non-empty string"),
        ("dataschema", "/relative/schema", "absolute URI with a scheme"),
        ("time", "", "time must be a non-empty string"),
        ("time", "2018-13-01T00:00:00Z", "time has month 13"),
        ("datacontenttype", "xyz", "datacontenttype must be an RFC 2046 media type"),
        ("datacontenttype", "", "datacontenttype must be a non-empty string"),
    ],
)
def test_core_string_rules_reject_with_a_message_naming_the_attribute(
    name: str, value: str, complaint: str
) -> None:
    with pytest.raises(InvalidCloudEventError) as caught:
        check_string(name, value)
    assert caught.value.field == name
    assert complaint in caught.value.message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("source", "https://cloudevents.io"),
        ("source", "#fragment"),
        ("source", "//authority/path"),
        ("source", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"),
        ("source", "/apis/v1/namespaces/default/pingsources/ping%20me"),
        ("dataschema", "https://cloudevents.io/dataschema"),
        ("subject", "x"),
    ],
)
def test_core_string_rules_accept_valid_values(name: str, value: str) -> None:
    check_string(name, value)


def test_extension_strings_may_be_empty() -> None:
    assert check_value("myext", "") == ""


@pytest.mark.parametrize("value", [True, False, 0, -(2**31), 2**31 - 1, "text"])
def test_extensions_hold_strings_booleans_and_32_bit_integers(value: object) -> None:
    assert check_value("ext", value) == value


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1])
def test_integers_outside_32_bits_are_rejected(value: int) -> None:
    with pytest.raises(InvalidCloudEventError, match="32-bit") as caught:
        check_value("ext", value)
    assert caught.value.field == "ext"


@pytest.mark.parametrize("value", [1.5, {"a": 1}, [1], b"bytes"])
def test_other_extension_types_are_rejected(value: object) -> None:
    with pytest.raises(InvalidCloudEventError, match="ext must be a string, boolean") as caught:
        check_value("ext", value)
    assert caught.value.field == "ext"


@pytest.mark.parametrize("value", [25, True, None, {"xyz": "abc"}])
def test_core_attributes_must_be_strings(value: object) -> None:
    with pytest.raises(InvalidCloudEventError, match="id must be a string") as caught:
        check_value("id", value)
    assert caught.value.field == "id"


def test_validate_drops_null_optionals_and_requires_the_four_required() -> None:
    assert validate({**MINIMAL, "subject": None}) == MINIMAL
    for missing in MINIMAL:
        partial = {name: value for name, value in MINIMAL.items() if name != missing}
        with pytest.raises(InvalidCloudEventError, match=f"{missing} is required") as caught:
            validate(partial)
        assert caught.value.field == missing


@pytest.mark.parametrize(
    ("value", "text"), [(True, "true"), (False, "false"), (-7, "-7"), ("x y", "x y")]
)
def test_canonical_strings_follow_the_type_system(value: str | int | bool, text: str) -> None:
    assert canonical_string(value) == text
