"""HTTP/1.1 messages as the data plane's server sees them: requests in, responses out."""

from __future__ import annotations

import http
from typing import Any, Protocol
from urllib.parse import unquote

Header = tuple[bytes, bytes]
"""One header as it goes on the wire: (name, value)."""

_TEXT = b"content-type: text/plain; charset=utf-8\r\n"
_STATUS_LINES: dict[int, bytes] = {}
_EMPTY_RESPONSES: dict[int, bytes] = {}  # status -> the whole response without headers or body


def status_line(status: int) -> bytes:
    """``HTTP/1.1 <status> <reason>\\r\\n``."""
    line = _STATUS_LINES.get(status)
    if line is None:
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        line = f"HTTP/1.1 {status} {reason}\r\n".encode()
        _STATUS_LINES[status] = line
    return line


class Request:
    """One parsed client request (headers with lower-case names, the whole body)."""

    __slots__ = ("_path", "body", "client", "headers", "host", "keep_alive", "method", "target")

    def __init__(
        self,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        *,
        host: bytes = b"",
        keep_alive: bool = True,
        client: tuple[str, int] = ("", 0),
    ) -> None:
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.host = host
        self.keep_alive = keep_alive
        self.client = client
        self._path: str | None = None

    @property
    def raw_path(self) -> bytes:
        """The target without its query string."""
        return self.target.partition(b"?")[0]

    @property
    def path(self) -> str:
        """The percent-decoded path (decoded once: the front and the handler both ask)."""
        path = self._path
        if path is None:
            path = self._path = unquote(self.raw_path.decode("latin-1"))
        return path

    def scope(self, server: tuple[str, int] | None = None) -> dict[str, Any]:
        """The request as an ASGI HTTP scope."""
        raw_path, _, query = self.target.partition(b"?")
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": self.method.decode("latin-1"),
            "scheme": "http",
            "path": unquote(raw_path.decode("latin-1")),
            "raw_path": raw_path,
            "query_string": query,
            "root_path": "",
            "headers": self.headers,
            "client": self.client,
            "server": server,
        }


class Reply(Protocol):
    """How a native handler answers the request it was given."""

    def respond(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Send the whole response (a content-length is added when missing)."""


class Handler(Protocol):
    """A fallback that answers without ASGI (the broker ingress)."""

    def handle_request(self, request: Request, reply: Reply) -> None:
        """Answer ``request`` now or later, exactly once, through ``reply``."""


def whole_response(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    """A complete response, with a content-length when ``headers`` lack one."""
    if not headers and not body:  # the broker's 202: made once per status
        whole = _EMPTY_RESPONSES.get(status)
        if whole is None:
            whole = _EMPTY_RESPONSES[status] = status_line(status) + b"content-length: 0\r\n\r\n"
        return whole
    parts = [status_line(status)]
    has_length = False
    for name, value in headers:
        if name.lower() == b"content-length":
            has_length = True
        parts += [name, b": ", value, b"\r\n"]
    if not has_length:
        parts += [b"content-length: ", str(len(body)).encode(), b"\r\n"]
    parts += [b"\r\n", body]
    return b"".join(parts)


def text_response(status: int, text: str) -> bytes:
    """A plain-text answer, the way Knative's activator and queue-proxy write them."""
    body = (text + "\n").encode()
    length = str(len(body)).encode()
    return b"".join([status_line(status), _TEXT, b"content-length: ", length, b"\r\n\r\n", body])
