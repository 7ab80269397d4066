"""The control plane bounds request bodies before reading them (issue #20: it read a whole
body, then checked 1.5 MiB)."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

from bulut.controlplane.bodies import MAX_REQUEST_BYTES, BodyLimit

MiB = 1024 * 1024


class Reads:
    """An app that reads the whole body, and a client that counts what it was asked for."""

    def __init__(self, chunks: int, chunk: bytes = b"x" * MiB, *, declared: int | None = None):
        self.left = chunks
        self.chunk = chunk
        self.asked = 0
        self.sent: list[dict[str, Any]] = []
        headers = [(b"host", b"127.0.0.1")]
        if declared is not None:
            headers.append((b"content-length", str(declared).encode()))
        self.scope = {"type": "http", "method": "POST", "path": "/apis/x", "headers": headers}
        self.app_got: bytes | None = None

    async def receive(self) -> dict[str, Any]:
        self.asked += 1
        self.left -= 1
        return {"type": "http.request", "body": self.chunk, "more_body": self.left > 0}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.sent.append(dict(message))

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.app_got = body
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])


async def test_a_declared_length_over_the_limit_is_413_before_one_byte_is_read() -> None:
    client = Reads(100, declared=100 * MiB)
    await BodyLimit(client.app)(client.scope, client.receive, client.send)
    assert client.status == 413
    assert client.asked == 0  # so Expect: 100-continue is never answered 100 Continue
    assert client.app_got is None
    document = json.loads(client.sent[1]["body"])
    assert (document["kind"], document["reason"], document["code"]) == (
        "Status",
        "RequestEntityTooLarge",
        413,
    )


async def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    client = Reads(10_000)  # a 10 GB stream, were it read to the end
    await BodyLimit(client.app)(client.scope, client.receive, client.send)
    assert client.status == 413
    assert client.asked == MAX_REQUEST_BYTES // MiB + 1
    assert client.app_got is None


async def test_a_body_within_the_limit_reaches_the_app_whole() -> None:
    chunked = Reads(3, b"y" * 1000)
    await BodyLimit(chunked.app)(chunked.scope, chunked.receive, chunked.send)
    declared = Reads(1, b"z" * 2000, declared=2000)
    await BodyLimit(declared.app)(declared.scope, declared.receive, declared.send)
    assert (chunked.status, chunked.app_got) == (200, b"y" * 3000)
    assert (declared.status, declared.app_got) == (200, b"z" * 2000)


async def test_outside_the_kubernetes_api_the_refusal_is_problem_json() -> None:
    client = Reads(1, declared=MAX_REQUEST_BYTES + 1)
    client.scope["path"] = "/eventing/events/1/redeliver"
    await BodyLimit(client.app)(client.scope, client.receive, client.send)
    headers = dict(client.sent[0]["headers"])
    assert headers[b"content-type"] == b"application/problem+json"
    assert json.loads(client.sent[1]["body"])["status"] == 413
