"""Request bodies are bounded before they are read, as kube-apiserver bounds them.

kube-apiserver refuses a request body over 3 MiB (``--max-request-bytes``' default
``MaxRequestBodyBytes``) with 413 ``RequestEntityTooLarge``, and etcd refuses objects over
1.5 MiB (:data:`~.admission.MAX_OBJECT_BYTES`, checked in admission). :class:`BodyLimit`
enforces the first for every route of the control plane (the Kubernetes API, ``/eventing``,
``/gitops``, the dashboard): a declared ``Content-Length`` over the limit is refused before
one byte is read (so ``Expect: 100-continue`` gets 413, never ``100 Continue``); a body of
unknown length (chunked) is read up to the limit and refused as soon as it passes it.
Nothing larger than the limit is ever held in memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from bulut.apis.status import status
from bulut.errors import BulutError, problem_response

from .admission import MAX_OBJECT_BYTES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_REQUEST_BYTES = 2 * MAX_OBJECT_BYTES
"""3 MiB: kube-apiserver's default request body limit."""


class RequestTooLargeError(BulutError):
    """A request body larger than the control plane reads."""

    http_status = 413
    title = "Request entity too large"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """ASGI middleware: 413 for a body over ``limit`` bytes, decided before it is buffered."""

    def __init__(self, app: ASGIApp, *, limit: int = MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            if declared > self.limit:
                await self._refuse(scope, send)
                return
            await self.app(scope, receive, send)  # the server stops at Content-Length
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = bytes(message.get("body", b""))
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # http.disconnect when the client goes
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        message = f"Request entity too large: limit is {self.limit}"
        path = str(scope.get("path", "/"))
        if path == "/api" or path.startswith(("/api/", "/apis")):
            body = orjson.dumps(status(message, code=413, reason="RequestEntityTooLarge"))
            headers = [(b"content-type", b"application/json")]
        else:
            _, headers, body = problem_response(RequestTooLargeError(message), instance=path)
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
