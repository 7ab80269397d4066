"""Requests to instances are serialised once, with hop-by-hop headers dropped."""

from __future__ import annotations

from bulut.serving.upstream import serialise_request


def test_a_request_keeps_end_to_end_headers_and_gets_a_content_length() -> None:
    raw = serialise_request(
        "POST",
        b"/path?q=1",
        [(b"host", b"svc.ns.localhost"), (b"connection", b"close"), (b"ce-id", b"1")],
        b"{}",
        [(b"k-proxy-request", b"activator")],
    )

    assert raw == (
        b"POST /path?q=1 HTTP/1.1\r\nhost: svc.ns.localhost\r\nce-id: 1\r\n"
        b"k-proxy-request: activator\r\ncontent-length: 2\r\n\r\n{}"
    )
