"""Binary-mode header values: percent-encoding both ways, quoted strings, strict UTF-8."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from bulut.errors import InvalidCloudEventError
from bulut.events.headers import decode_header_value, encode_header_value, headers_from_asgi


def test_the_spec_example_encodes_to_utf8_percent_escapes() -> None:
    assert encode_header_value("Euro € 😀") == "Euro%20%E2%82%AC%20%F0%9F%98%80"


def test_space_quote_and_percent_are_encoded_and_other_printable_ascii_is_not() -> None:
    assert encode_header_value('a b"%c') == "a%20b%22%25c"
    printable = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')
    assert encode_header_value(printable) == printable


def test_control_characters_are_encoded() -> None:
    assert encode_header_value("tab\there\n") == "tab%09here%0A"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("Euro%20%E2%82%AC%20%F0%9F%98%80", "Euro € 😀"),
        ("lower%e2%82%achex", "lower€hex"),
        ("%41%42C", "ABC"),
        ('"quoted value"', "quoted value"),
        ('"with \\"escaped\\" quotes"', 'with "escaped" quotes'),
        ('"%22percent%20in%20quotes%22"', '"percent in quotes"'),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_decoding_undoes_quoting_then_one_round_of_percent_encoding(raw: str, value: str) -> None:
    assert decode_header_value("x", raw) == value


def test_raw_utf8_bytes_read_as_latin1_decode_to_text() -> None:
    raw = "é".encode().decode("latin-1")
    assert decode_header_value("x", raw) == "é"


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("%C0%A0", "not valid UTF-8"),
        ("%FF", "not valid UTF-8"),
        ("%ED%A0%80", "not valid UTF-8"),
        ("50%", "'%' not followed by two hex digits"),
        ("%zz", "'%' not followed by two hex digits"),
        ("%4", "'%' not followed by two hex digits"),
        ('"ends in escape\\"', "quoted-string"),
    ],
)
def test_malformed_values_are_rejected_naming_the_attribute(raw: str, complaint: str) -> None:
    with pytest.raises(InvalidCloudEventError) as caught:
        decode_header_value("subject", raw)
    assert caught.value.field == "subject"
    assert "ce-subject" in caught.value.message
    assert complaint in caught.value.message


@given(st.text())
def test_any_string_survives_encoding_and_decoding(value: str) -> None:
    value = value.encode("utf-8", "replace").decode("utf-8")  # no lone surrogates
    encoded = encode_header_value(value)
    assert all(0x21 <= ord(char) <= 0x7E for char in encoded)
    assert decode_header_value("x", encoded) == value


def test_asgi_headers_become_a_dict_with_lower_case_names() -> None:
    raw = [
        (b"Content-Type", b"application/json"),
        (b"CE-ID", b"1"),
        (b"ce-subject", "caf\u00e9".encode("latin-1")),
        (b"accept", b"text/plain"),
        (b"Accept", b"application/json"),
    ]
    assert headers_from_asgi(raw) == {
        "content-type": "application/json",
        "ce-id": "1",
        "ce-subject": "caf\u00e9",
        "accept": "text/plain, application/json",
    }
