"""The knativeerror* extensions on dead-lettered events."""

from __future__ import annotations

import base64

from bulut.eventing.dead_letter import error_extensions


def test_names_the_destination_the_code_and_the_body_in_base64() -> None:
    extensions = error_extensions("http://sub.default.localhost/", 503, b"overloaded")
    assert extensions == {
        "knativeerrordest": "http://sub.default.localhost/",
        "knativeerrorcode": "503",
        "knativeerrordata": base64.b64encode(b"overloaded").decode(),
    }


def test_cuts_the_encoded_body_at_1024_characters() -> None:
    extensions = error_extensions("http://x/", 500, b"x" * 5000)
    assert len(extensions["knativeerrordata"]) == 1024
    assert extensions["knativeerrordata"] == base64.b64encode(b"x" * 5000).decode()[:1024]


def test_no_response_is_recorded_as_500_without_data() -> None:
    assert error_extensions("http://x/", 0, b"") == {
        "knativeerrordest": "http://x/",
        "knativeerrorcode": "500",
    }
