"""Recorders: small loopback servers that keep every request they get, for tests to read.

:class:`EchoServer` stands in for a function (or a sink) in a thread: it records each
request and, with ``reply``, answers with a binary CloudEvent echoing the data.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

REPLY_HEADERS = {
    "ce-specversion": "1.0",
    "ce-id": "reply-1",
    "ce-source": "/echo",
    "ce-type": "com.example.echoed",
    "content-type": "application/json",
}


class EchoServer(http.server.ThreadingHTTPServer):
    """A loopback function stand-in: records each request, replies with a binary CloudEvent."""

    def __init__(self, reply: bool = True) -> None:
        super().__init__(("127.0.0.1", 0), _EchoHandler)
        self.reply = reply
        self.requests: list[tuple[dict[str, str], bytes]] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    server: EchoServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.server.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
        if not self.server.reply:
            self.send_response(204)
            self.end_headers()
            return
        payload = json.dumps({"echo": json.loads(body or b"null")}).encode()
        self.send_response(200)
        for name, value in REPLY_HEADERS.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def serve(reply: bool = True) -> Iterator[EchoServer]:
    server = EchoServer(reply)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
