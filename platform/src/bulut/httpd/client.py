"""One keep-alive HTTP/1.1 connection to an origin server, its response handed on as it
arrives.

The data plane's gateway (to instances) and eventing delivery (to subscribers) send
thousands of small requests a second to a few loopback origins, so this is a bare
``asyncio.Protocol`` with httptools' response parser: no URL parsing, no header
objects, no body re-encoding. A response goes to a :class:`ResponseSink` as the bytes
arrive (the gateway writes them to its client unchanged, framing included); a
:class:`Collector` keeps the status, headers and body instead (probes, deliveries).

The request is written whole (:meth:`OriginConnection.send`) or streamed from an async
iterable as chunks, waiting while the origin reads slower
(:meth:`OriginConnection.stream`). Three timers, each only when asked for: the first
response byte (``response_start``), the longest silence between response bytes
(``idle``, counted from the request) and the whole exchange (``total``). A connection
that breaks or times out before a whole response arrived reports an
:class:`OriginError` with ``retryable`` true when not one response byte was seen (the
request may be sent again where that is safe).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from typing import TYPE_CHECKING, Protocol, cast

import httptools

from bulut.errors import BulutError

from .messages import Header

if TYPE_CHECKING:
    from .pool import OriginPool


class OriginError(BulutError):
    """No whole response: the origin was unreachable, closed the connection first, or
    answered with bytes that are not HTTP. ``retryable``: not one response byte came
    back, so the request may be sent again where that is safe."""

    http_status = 502

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class OriginTimeout(OriginError):
    """A timer of the exchange ran out (connect, first byte, silence or the whole)."""

    http_status = 504


class ResponseSink(Protocol):
    """Where one response goes, as it arrives."""

    def response_head(self, status: int) -> None:
        """The status line and headers were parsed (they are in the next data)."""

    def response_data(self, data: bytes) -> None:
        """Raw response bytes, head and framing included, in order."""

    def response_done(self, keep_alive: bool) -> None:
        """The whole response arrived; ``keep_alive`` False: the connection closes."""

    def response_failed(self, error: OriginError) -> None:
        """The exchange broke or timed out before the response was whole."""


class Response:
    """A whole response: status, headers (lower-case names, in order) and body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[Header], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def text_headers(self) -> dict[str, str]:
        """The headers as text (a repeated name keeps its last value)."""
        return {name.decode("latin-1"): value.decode("latin-1") for name, value in self.headers}


class Collector:
    """A :class:`ResponseSink` keeping one whole response for a future, through its own
    parser (the streaming parser has no per-header callbacks, so the gateway's warm path
    pays for none)."""

    def __init__(self, connection: OriginConnection) -> None:
        self.connection = connection
        self.parser = httptools.HttpResponseParser(self)
        self.future: asyncio.Future[Response] | None = None
        self.status = 0
        self.headers: list[Header] = []
        self.body: list[bytes] = []

    # -- httptools callbacks
    def on_message_begin(self) -> None:
        self.headers = []  # a 1xx answer's headers are not the response's
        self.body = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_headers_complete(self) -> None:
        self.connection.on_headers_complete()

    def on_message_complete(self) -> None:
        self.connection.on_message_complete()

    # -- ResponseSink
    def response_head(self, status: int) -> None:
        self.status = status

    def response_data(self, data: bytes) -> None:
        pass

    def response_done(self, keep_alive: bool) -> None:
        future = self.future
        if future is not None and not future.done():
            body = self.body[0] if len(self.body) == 1 else b"".join(self.body)
            future.set_result(Response(self.status, self.headers, body))

    def response_failed(self, error: OriginError) -> None:
        future = self.future
        if future is not None and not future.done():
            future.set_exception(error)


class OriginConnection(asyncio.Protocol):
    """One keep-alive connection to an origin; one request at a time."""

    def __init__(self, pool: OriginPool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
        self.closed = False
        self.reused = False  # it served a request before (the origin may have closed it)
        self._streaming = httptools.HttpResponseParser(self)
        self._parser = self._streaming
        self._collector: Collector | None = None
        self._sink: ResponseSink | None = None
        self._received = False
        self._head_only = False
        self._relay = True  # raw bytes go to the sink (not to a Collector, not whole)
        self._status = 0
        self._keep_alive = True
        self._informational = False
        self._complete = False
        self._sending = False  # a streamed body is still being written
        self._writable: asyncio.Future[None] | None = None  # set while the origin lags
        self._timer: asyncio.TimerHandle | None = None
        self._start_by = 0.0
        self._end_by = 0.0
        self._idle = 0.0
        self._active_at = 0.0

    @property
    def complete(self) -> bool:
        """Whether the response being received has arrived whole."""
        return self._complete

    # -- asyncio.Protocol --------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        sink = self._sink
        if sink is None:  # bytes nobody asked for: the connection's state is unknown
            self.abort()
            return
        self._received = True
        if self._idle:
            self._active_at = self.loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(OriginError(f"malformed response from {self.pool.origin}: {error}"))
            return
        if self._relay:  # a Collector, or a sink taking the response whole, gets the parts
            sink.response_data(data)
        if self._complete:
            self._sink = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            keep_alive = self._keep_alive and not self._sending  # an early answer ends it
            if keep_alive:
                self.pool.release(self)
            else:
                self.abort()
            sink.response_done(keep_alive)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake_writer()
        sink = self._sink
        if sink is None:
            return
        self._end()
        if self._status and not self._keep_alive and not self._complete:
            sink.response_done(False)  # a response delimited by the end of the connection
            return
        message = f"{self.pool.origin} closed the connection before a whole response"
        sink.response_failed(OriginError(message, retryable=not self._received))

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = self.loop.create_future()

    def resume_writing(self) -> None:
        self._wake_writer()

    # -- httptools callbacks ----------------------------------------------
    def on_headers_complete(self) -> None:
        parser = self._parser
        status = parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self._informational = True  # 103 Early Hints and friends: passed on as they are
            return
        self._status = status
        self._keep_alive = parser.should_keep_alive()
        sink = self._sink
        if sink is not None:
            sink.response_head(status)
        if self._head_only:
            self._complete = True  # no body follows, whatever the length says
            if parser is self._streaming:
                self._parser = self._streaming = httptools.HttpResponseParser(self)
            elif self._collector is not None:
                self._parser = self._collector.parser = httptools.HttpResponseParser(
                    self._collector
                )

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        self._complete = True

    # -- use ---------------------------------------------------------------
    def send(
        self,
        request: bytes,
        sink: ResponseSink,
        *,
        head_only: bool = False,
        response_start: float = 0.0,
        idle: float = 0.0,
        total: float = 0.0,
        whole: bool = False,
    ) -> None:
        """Write a whole request; the response goes to ``sink`` (timeouts in seconds, 0:
        none). ``head_only``: the answer to a HEAD, whose length says nothing. ``whole``:
        the sink gets no raw bytes; the response is parsed once, headers and body kept
        for :meth:`collected` when the sink hears ``response_done``."""
        assert self.transport is not None
        self._sink = sink  # what _begin does, inline: this is the gateway's warm path
        if whole:
            self._parser = self.collector(None).parser
            self._relay = False
        else:
            self._parser = self._streaming
            self._relay = True
        self._received = False
        self._complete = False
        self._status = 0
        self._keep_alive = True
        self._head_only = head_only
        self._idle = idle
        if response_start or idle or total:
            self._arm(response_start, total)
        self.transport.write(request)

    async def stream(
        self,
        head: bytes,
        body: AsyncIterable[bytes],
        sink: ResponseSink,
        *,
        response_start: float = 0.0,
        idle: float = 0.0,
        total: float = 0.0,
    ) -> None:
        """Write ``head`` (it says ``transfer-encoding: chunked``), then each part of
        ``body`` as a chunk, waiting while the origin reads slower than we write.

        The response goes to ``sink``; it may come before the body ends (an origin
        refusing it early), and then no more is written and the connection is not reused.
        """
        assert self.transport is not None
        parser = sink.parser if isinstance(sink, Collector) else self._streaming
        self._begin(sink, parser, False, response_start, idle, total)
        self._sending = True
        transport = self.transport
        try:
            transport.write(head)
            async for part in body:
                if self._sink is not sink or self._complete:
                    return  # answered early, failed or timed out: stop writing
                if part:
                    transport.write(b"%x\r\n%s\r\n" % (len(part), part))
                writable = self._writable
                if writable is not None:
                    await writable
            if self._sink is sink and not self._complete:
                transport.write(b"0\r\n\r\n")
        finally:
            self._sending = False

    def fetch(
        self,
        request: bytes,
        *,
        head_only: bool = False,
        response_start: float = 0.0,
        idle: float = 0.0,
        total: float = 0.0,
    ) -> asyncio.Future[Response]:
        """Write a whole request; the future gets the whole :class:`Response` or the
        :class:`OriginError` (its ``retryable`` says whether a response byte came)."""
        assert self.transport is not None
        future: asyncio.Future[Response] = self.loop.create_future()
        collector = self.collector(future)
        self._begin(collector, collector.parser, head_only, response_start, idle, total)
        self.transport.write(request)
        return future

    def collector(self, future: asyncio.Future[Response] | None) -> Collector:
        """This connection's :class:`Collector`, set to fill ``future`` (a sink for
        :meth:`stream` whose response is wanted whole; None: for :meth:`collected`)."""
        collector = self._collector
        if collector is None:
            collector = self._collector = Collector(self)
        collector.future = future
        collector.status = 0
        return collector

    def collected(self) -> Response:
        """The response of a :meth:`send` with ``whole``, once its sink heard
        ``response_done``."""
        collector = self._collector
        assert collector is not None
        parts = collector.body
        return Response(
            self._status, collector.headers, parts[0] if len(parts) == 1 else b"".join(parts)
        )

    def pause_reading(self) -> None:
        """The one we pass the response to reads slower than the origin writes."""
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        """It caught up."""
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def abort(self) -> None:
        """Drop the connection now, without reporting (its state is unknown)."""
        self.closed = True
        self._end()
        if self.transport is not None:
            self.transport.abort()

    # -- inside ------------------------------------------------------------
    def _begin(
        self,
        sink: ResponseSink,
        parser: httptools.HttpResponseParser,
        head_only: bool,
        response_start: float,
        idle: float,
        total: float,
    ) -> None:
        self._sink = sink
        self._parser = parser
        self._relay = not isinstance(sink, Collector)
        self._received = False
        self._complete = False
        self._status = 0
        self._keep_alive = True
        self._head_only = head_only
        self._idle = idle
        if response_start or idle or total:
            self._arm(response_start, total)

    def _arm(self, response_start: float, total: float) -> None:
        """Start the timers (``self._idle`` is set)."""
        now = self._active_at = self.loop.time()
        self._start_by = now + response_start if response_start else 0.0
        self._end_by = now + total if total else 0.0
        first = total or response_start or self._idle  # the shortest of those set
        if response_start and response_start < first:
            first = response_start
        if self._idle and self._idle < first:
            first = self._idle
        # call_later, not call_at: uvloop's call_at reads the clock again and costs twice
        self._timer = self.loop.call_later(first, self._check_time)

    def _next_deadline(self) -> float:
        deadlines = [self._end_by] if self._end_by else []
        if self._start_by and not self._received:
            deadlines.append(self._start_by)
        if self._idle:
            deadlines.append(self._active_at + self._idle)
        return min(deadlines) if deadlines else 0.0  # 0: nothing left to watch

    def _check_time(self) -> None:
        self._timer = None
        if self._sink is None:
            return
        now = self.loop.time()
        origin = self.pool.origin
        if self._end_by and now >= self._end_by:
            self._time_out(f"{origin} sent no whole response in time")
        elif self._start_by and not self._received and now >= self._start_by:
            self._time_out(f"{origin} sent no response byte in time")
        elif self._idle and now - self._active_at >= self._idle:
            self._time_out(f"{origin} sent nothing for {self._idle:g} s")
        else:
            deadline = self._next_deadline()
            if deadline:
                self._timer = self.loop.call_later(deadline - now, self._check_time)

    def _time_out(self, message: str) -> None:
        self._fail(OriginTimeout(message))

    def _fail(self, error: OriginError) -> None:
        sink = self._sink
        self.abort()
        if sink is not None:
            sink.response_failed(error)

    def _end(self) -> None:
        self._sink = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _wake_writer(self) -> None:
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)
