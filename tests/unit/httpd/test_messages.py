"""Whole responses as the server writes them."""

from __future__ import annotations

from bulut.httpd import Request, whole_response


def test_an_empty_answer_carries_a_zero_content_length_and_nothing_else() -> None:
    assert whole_response(202, [], b"") == b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"
    assert whole_response(202, [], b"") == whole_response(202, [], b"")  # and again, made once


def test_headers_and_bodies_are_written_as_given_with_a_length_when_missing() -> None:
    assert whole_response(200, [(b"x-a", b"1")], b"ok") == (
        b"HTTP/1.1 200 OK\r\nx-a: 1\r\ncontent-length: 2\r\n\r\nok"
    )
    assert whole_response(404, [(b"Content-Length", b"0")], b"") == (
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    )


def test_a_request_path_is_percent_decoded_without_its_query_every_time_it_is_asked() -> None:
    request = Request(b"POST", b"/shop/my%20broker?x=1", [], b"")
    assert request.path == "/shop/my broker"
    assert request.path == "/shop/my broker"
    assert request.raw_path == b"/shop/my%20broker"
