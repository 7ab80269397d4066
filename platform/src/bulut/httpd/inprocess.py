"""Requests to a server of this process, handed to it without a socket.

Under `bulut up` the broker delivers most events to the platform's own functions, through
the data plane's gateway on loopback: the deliverer wrote the request to a socket, the
gateway read and parsed it back, and the answer made the same trip the other way (two
writes, two reads and a request parse per delivery, ADR 0029). An :class:`InProcessPool`
is a :class:`~bulut.httpd.OriginPool` for the address such a server listens on: a
request with a whole body becomes the :class:`~bulut.httpd.Request` the server's
connection would have parsed (lower-case names, ``Host`` and ``Content-Length``
included, the client's address) and goes to the server's ``dispatch`` as if it had
arrived on a connection; what the server writes back is parsed into the same
:class:`~bulut.httpd.Response` a socket would have brought, and a server that parsed the
answer already (the gateway, relaying an instance's) hands it over whole
(:meth:`InProcessConnection.take`, ADR 0032) instead of writing bytes to be parsed again.
The server does everything it does for a socket's request (for the gateway: the edge's
checks, routing, the activator, containerConcurrency, ``timeoutSeconds``, the router span
and metrics; the instance still gets a real HTTP request), and the server's limits on the
request (413, 414, 431: :mod:`.limits`, the connection's own) apply.

The whole-exchange timer (``total``) hangs up as a client going away would; requests
with a streamed body or a first-byte or idle timer go over the socket as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Sequence
from typing import TYPE_CHECKING

import httptools

from .client import OriginError, OriginTimeout, Response
from .connection import ClientConnection
from .limits import refusal
from .messages import Header, Request, text_response
from .pool import CONNECT_TIMEOUT, MAX_IDLE, OriginPool

if TYPE_CHECKING:
    from .server import Server


class InProcessConnection(ClientConnection):
    """The server's side of one in-process request: what it writes is parsed as the
    response and ends in ``future``.

    Its parser exists only while bytes are being parsed (made on the first write, dropped
    once the response is settled): a parser and its protocol refer to each other, and a
    cycle per delivery left every one of them (the future, the response, its headers) to
    the cyclic garbage collector.
    """

    def __init__(self, server: Server, client: tuple[str, int], origin: str) -> None:
        # No super().__init__(): there is no transport and no request to parse.
        self.server = server
        self.client = client
        self.origin = origin
        self.closed = False
        self.busy = True
        self.keep_alive = True
        self.current = None
        self.future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._parser: httptools.HttpResponseParser | None = None
        self._status = 0
        self._headers: list[Header] = []
        self._body: list[bytes] = []
        self._received = False
        self._complete = False

    # -- httptools callbacks (the response) ----------------------------------------
    def on_message_begin(self) -> None:
        self._headers = []  # a 1xx answer's headers are not the response's
        self._body = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        assert self._parser is not None  # called while it parses
        status = self._parser.get_status_code()
        if not 100 <= status < 200:
            self._status = status

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._status and not self._complete:
            self._complete = True
            self._resolve()

    # -- what the server calls ----------------------------------------------------
    def write(self, data: bytes) -> None:
        """Response bytes from the server, parsed as they come."""
        if self.closed or self._complete:
            return
        self._received = True
        parser = self._parser
        if parser is None:
            parser = self._parser = httptools.HttpResponseParser(self)
        try:
            parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._reject(OriginError(f"malformed response from {self.origin}: {error}"))

    def finish(self, keep_alive: bool) -> None:
        """The server's answer is complete (a response delimited by the connection's end
        ends here)."""
        self.current = None
        self.busy = False
        if not keep_alive:
            self.close()

    def close(self) -> None:
        """The server closes after its answer: a response without a length ends now."""
        if self.closed:
            return
        self.closed = True
        if self._status and not self._complete:  # delimited by the end of the connection
            self._complete = True
            self._resolve()
        elif not self._complete:
            self._reject(self._cut())

    def abort(self) -> None:
        """The server dropped the connection: no whole response."""
        if self.closed:
            return
        self.closed = True
        if not self._complete:
            self._reject(self._cut())

    def began(self) -> None:
        """The server's response began, its head parsed by the server itself (see
        :meth:`take`): cut short from now on, it is not to be sent again."""
        self._received = True

    def take(self, response: Response) -> None:
        """A whole response the server parsed already (the gateway's exchange with an
        instance): the client gets it without a second parse."""
        if self.closed or self._complete:
            return
        self._received = self._complete = True
        if not self.future.done():
            self.future.set_result(response)

    # -- the client's side ----------------------------------------------------------
    def hang_up(self) -> None:
        """The client gave up (its timer ran out, or it was cancelled): the server sees
        the connection close, as with a socket."""
        if self.closed:
            return
        self.closed = True
        current, self.current = self.current, None
        if current is not None:
            current.client_gone()

    def expire(self) -> None:
        """The exchange's whole time ran out: the client hangs up and gets the timeout."""
        if not self.future.done():
            self.hang_up()
            self._reject(OriginTimeout(f"{self.origin} sent no whole response in time"))

    def _cut(self) -> OriginError:
        message = f"{self.origin} closed the connection before a whole response"
        return OriginError(message, retryable=not self._received)

    def _resolve(self) -> None:
        self._parser = None
        if not self.future.done():
            body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
            self.future.set_result(Response(self._status, self._headers, body))

    def _reject(self, error: OriginError) -> None:
        self._parser = None
        if not self.future.done():
            self.future.set_exception(error)


class InProcessPool(OriginPool):
    """The pool for the address ``server`` (of this loop) listens on: whole requests go to
    it in-process; streamed bodies and first-byte or idle timers go over the socket."""

    def __init__(
        self,
        server: Server,
        host: str,
        port: int,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        max_idle: int = MAX_IDLE,
    ) -> None:
        super().__init__(host, port, connect_timeout=connect_timeout, max_idle=max_idle)
        self.server = server
        self.client = (host if host not in ("", "0.0.0.0", "::") else "127.0.0.1", 0)

    async def request(
        self,
        method: str | bytes,
        target: str | bytes,
        *,
        host: str | bytes | None = None,
        headers: Sequence[Header] = (),
        body: bytes | AsyncIterable[bytes] = b"",
        response_start: float = 0.0,
        idle: float = 0.0,
        total: float = 0.0,
    ) -> Response:
        """One whole exchange, in-process when it can be (see the module)."""
        if not isinstance(body, bytes) or response_start or idle:
            return await super().request(
                method, target, host=host, headers=headers, body=body,
                response_start=response_start, idle=idle, total=total,
            )  # fmt: skip
        connection = InProcessConnection(self.server, self.client, self.origin)
        request = self._request(method, target, host, headers, body)
        refused = refusal(self.server, request)
        if refused is not None:
            connection.write(text_response(*refused))
            connection.close()
        else:
            self.server.dispatch(connection, request)
        # a timer handle, not asyncio.timeout (twice the cost on every delivery)
        timer = self.server.loop.call_later(total, connection.expire) if total else None
        try:
            return await connection.future
        except asyncio.CancelledError:
            connection.hang_up()
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def _request(
        self,
        method: str | bytes,
        target: str | bytes,
        host: str | bytes | None,
        headers: Sequence[Header],
        body: bytes,
    ) -> Request:
        """The request as the server's connection would have parsed it."""
        verb = method.encode() if isinstance(method, str) else method
        path = target.encode("latin-1") if isinstance(target, str) else target
        name = self.origin if host is None else host
        host_value = name.encode("latin-1") if isinstance(name, str) else name
        fields = [(b"host", host_value)]
        fields += [(key.lower(), value) for key, value in headers]
        fields.append((b"content-length", str(len(body)).encode()))
        return Request(verb, path, fields, body, host=host_value, client=self.client)
