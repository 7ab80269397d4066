"""The gateway: the data plane's HTTP/1.1 server on :8080 (Knative's ingress + activator).

The warm path is a chain of callbacks with no ASGI, no task and no buffering of the
response: the client's request is parsed by httptools, the :class:`Router` picks a
revision, the revision hands over a free containerConcurrency slot on a ready instance,
the request goes out on an idle keep-alive connection, and the instance's response
bytes are written to the client as they arrive (streaming included; a client of this
process, the broker's deliveries under `bulut up`, gets the response parsed once, whole:
ADR 0032). Only when a request has to wait (no ready instance: the activator holds it;
every slot busy; no idle connection yet) does a coroutine run.

Knative's answers are kept: 400 problem+json naming the attribute for a malformed
CloudEvent (the original bytes are forwarded unchanged), 503 "pending request queue
full", 504 "activator request timeout" / "request timeout" (``timeoutSeconds`` for the
whole request, ``responseStartTimeoutSeconds`` for the first byte,
``idleTimeoutSeconds`` between writes), 502 for an instance that died. Requests carry
``X-Forwarded-For``/``-Proto``, ``traceparent`` and, when the activator held them,
``K-Proxy-Request: activator``. Hosts that are not service hosts go to the router's
``fallback``: a native :class:`Handler` (the broker ingress) or any ASGI app.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any, Protocol

from bulut.edge.hosts import HostPolicy, MisdirectedHostError
from bulut.errors import (
    BulutError,
    InvalidCloudEventError,
    NetworkPolicyRefusedError,
    problem_response,
)
from bulut.events import decode, headers_from_asgi
from bulut.httpd import (
    ClientConnection,
    InProcessConnection,
    OriginConnection,
    OriginError,
    OriginTimeout,
    Request,
    Server,
    text_response,
)
from bulut.observability.logs import log_context
from bulut.observability.tracer import Span
from bulut.observability.tracing import TraceContext, scan_lowercase_headers
from bulut.serving.instances import Instance
from bulut.serving.revisions import RevisionRuntime
from bulut.serving.router import Router
from bulut.serving.traffic import Split

HEALTH_TARGETS = frozenset({b"/health/liveness", b"/health/readiness"})
DROPPED = frozenset(  # hop-by-hop headers, the framing we redo, and the trace we replace
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
        b"expect",  # the gateway answered 100-continue itself and sends the whole body
        b"traceparent",
        b"tracestate",
    }
)
CLIENT_CLOSED = 499  # nginx's status for "the client went away first"
REPLAYABLE = frozenset({b"GET", b"HEAD", b"OPTIONS", b"TRACE"})
BUILD_WAIT_SECONDS = 300.0  # revision-timeout-seconds' default: a request waits that long
CONNECT_ATTEMPTS = 3  # instances refusing a connection (gone, not yet noticed) before 502
HEAD_HOLD_SECONDS = 0.001  # a response head arriving alone waits this long for its body


class Guard(Protocol):
    """Auth and rate limits in front of every request (see :mod:`bulut.edge`)."""

    async def admit(self, scope: dict[str, Any]) -> None:
        """Raise a :class:`BulutError` (401/403/429) to refuse the request."""

    def rejection(
        self, error: BulutError, path: str
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The response refusing the request."""


def validate_event(headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    """Raise :class:`InvalidCloudEventError` naming the attribute when the event is bad."""
    decode(headers_from_asgi(headers), body, check_json_data=True)


def serialise(request: Request, trace: TraceContext, via_activator: bool) -> bytes:
    """The request for an instance, as Knative's ingress and activator forward it.

    Hop-by-hop headers are dropped, ``traceparent``/``tracestate`` replaced by the
    router span's, ``X-Forwarded-For`` appended, ``X-Forwarded-Proto`` set when absent,
    ``K-Proxy-Request: activator`` added when the activator held the request, and the
    body gets its content-length.
    """
    parts = [request.method, b" ", request.target, b" HTTP/1.1\r\n"]
    proto = False
    for name, value in request.headers:
        if name in DROPPED:
            continue
        if name == b"x-forwarded-proto":
            proto = True
        parts += [name, b": ", value, b"\r\n"]
    if request.client[0]:
        parts += [b"x-forwarded-for: ", request.client[0].encode(), b"\r\n"]
    if not proto:
        parts.append(b"x-forwarded-proto: http\r\n")
    parts += [b"traceparent: ", trace.traceparent.encode(), b"\r\n"]
    if trace.state:
        parts += [b"tracestate: ", trace.state.encode("latin-1"), b"\r\n"]
    if via_activator:
        parts.append(b"k-proxy-request: activator\r\n")
    body = request.body
    parts += [b"content-length: ", str(len(body)).encode(), b"\r\n\r\n", body]
    return b"".join(parts)


def map_domain(request: Request, split: Split) -> None:
    """A DomainMapping's request, as its KIngress forwards it: ``Host`` rewritten to the
    target's host, ``K-Original-Host`` naming the mapped domain."""
    target = split.target_host.encode()
    headers = [(name, value) for name, value in request.headers if name != b"host"]
    headers += [(b"host", target), (b"k-original-host", split.original_host.encode())]
    request.headers = headers
    request.host = target


class Exchange:
    """One request to a revision, from the client's bytes to the instance's last byte."""

    __slots__ = (
        "connection",
        "context",
        "done",
        "gateway",
        "held",
        "hold_timer",
        "instance",
        "request",
        "runtime",
        "sent_at",
        "span",
        "started",
        "status",
        "task",
        "upstream",
        "via_activator",
        "whole",
        "written",
    )

    def __init__(
        self,
        gateway: Gateway,
        connection: ClientConnection,
        request: Request,
        runtime: RevisionRuntime,
        context: TraceContext,
        span: Span | None,
    ) -> None:
        """``context`` is the router span's (the instance's parent); ``span`` the span
        itself when its trace is recorded, else None."""
        self.gateway = gateway
        self.connection = connection
        self.request = request
        self.runtime = runtime
        self.context = context
        self.span = span
        self.started = time.perf_counter()
        self.instance: Instance | None = None
        self.upstream: OriginConnection | None = None
        self.task: asyncio.Task[None] | None = None
        self.via_activator = False
        self.written = False  # a response byte went to the client
        self.held = b""  # the response's head, waiting for its body's first bytes
        self.hold_timer: asyncio.TimerHandle | None = None
        self.done = False
        self.status = 502
        self.sent_at = 0.0  # when the first attempt went out, if a first-byte limit is set
        # A client of this process takes the response parsed (ADR 0032), else bytes go on.
        self.whole = connection if isinstance(connection, InProcessConnection) else None

    # -- the path ------------------------------------------------------------
    def start(self) -> None:
        """Send at once when a slot and an idle connection are free, else wait for them."""
        runtime = self.runtime
        runtime.tracker.started()
        self.gateway.deadlines.add(self, runtime.spec.timeout_seconds)
        instance = runtime.take()
        if instance is not None:
            self.instance = instance
            upstream = instance.upstream.idle()
            if upstream is not None:
                self._send(upstream)
                return
        self.task = self.gateway.loop.create_task(self._wait())

    async def _wait(self) -> None:
        spec = self.runtime.spec
        with log_context(revision=spec.name, trace_id=self.context.trace_id):
            refused = 0
            while True:
                try:
                    if self.instance is None:
                        self.instance = await self.runtime.acquire(self)
                    pool = self.instance.upstream
                    upstream = pool.idle() or await pool.connect()
                    break
                except OriginError as error:  # nothing was sent: another instance may answer
                    refused += 1
                    if self.instance is not None:
                        self.runtime.unreachable(self.instance)
                    self._drop_instance()
                    if refused >= CONNECT_ATTEMPTS:
                        self._fail(error.http_status, error.message)
                        return
                    try:
                        await asyncio.sleep(0.02 * refused)  # its exit is noticed meanwhile
                    except asyncio.CancelledError:
                        return
                except BulutError as error:  # 503 queue full
                    self._fail(error.http_status, error.message)
                    return
                except asyncio.CancelledError:
                    return  # timed out or the client went away: already answered
        if not self.done:
            self._send(upstream)
        else:
            pool.release(upstream)

    def _drop_instance(self) -> None:
        """Give the slot back; the next attempt picks an instance again."""
        if self.instance is not None:
            self.runtime.release(self.instance)
            self.instance = None
        self.upstream = None

    def _send(self, upstream: OriginConnection) -> None:
        """Write the request; the connection times the first byte and the silences
        (``responseStartTimeoutSeconds``, ``idleTimeoutSeconds``) when the revision sets
        them. A second attempt gets what is left of the first byte's time."""
        self.upstream = upstream
        request = self.request
        spec = self.runtime.spec
        limit = spec.timeout_seconds
        start = spec.response_start_timeout_seconds
        if 0 < start < limit:
            now = self.gateway.loop.time()
            if self.sent_at:
                start -= now - self.sent_at
                if start <= 0:
                    self._expire("request timeout")
                    return
            else:
                self.sent_at = now
        else:
            start = 0.0
        idle = spec.idle_timeout_seconds
        data = serialise(request, self.context, self.via_activator)
        upstream.send(
            data,
            self,
            head_only=request.method == b"HEAD",
            response_start=start,
            idle=idle if 0 < idle < limit else 0.0,
            whole=self.whole is not None,
        )

    # -- ResponseSink ------------------------------------------------------------
    def response_head(self, status: int) -> None:
        self.status = status
        if self.whole is not None:  # a failure from now on cuts the response short
            self.written = True
            self.whole.began()

    def response_data(self, data: bytes) -> None:
        if self.held:
            data = self._take_held() + data
        elif not self.written and data[-4:] == b"\r\n\r\n" and not self._upstream_complete():
            # The head alone (uvicorn writes it apart from the body): sent with the body's
            # first bytes, one write and one wake-up of the client fewer, or on its own
            # after the gateway's ``head_hold`` if the body is slow to come.
            self.held = data
            self.hold_timer = self.gateway.loop.call_later(self.gateway.head_hold, self._send_held)
            return
        self.written = True
        self.connection.write(data)

    def _upstream_complete(self) -> bool:
        upstream = self.upstream
        return upstream is None or upstream.complete

    def _take_held(self) -> bytes:
        """The held head, no longer held (its timer cancelled)."""
        held, self.held = self.held, b""
        if self.hold_timer is not None:
            self.hold_timer.cancel()
            self.hold_timer = None
        return held

    def _send_held(self) -> None:
        """The body is slow: the head goes to the client on its own."""
        self.hold_timer = None
        if self.held and not self.done:
            self.written = True
            self.connection.write(self._take_held())

    def response_done(self, keep_alive: bool) -> None:
        if self.whole is not None and self.upstream is not None:
            self.whole.take(self.upstream.collected())
        elif self.held:  # a HEAD's or an empty body's head came whole: not held, but be sure
            self.written = True
            self.connection.write(self._take_held())
        self._finish(self.status, keep_alive and self.request.keep_alive)

    def response_failed(self, error: OriginError) -> None:
        if error.retryable and not self.done and self._replayable():
            upstream, instance = self.upstream, self.instance
            if upstream is not None and not upstream.reused and instance is not None:
                self.runtime.unreachable(instance)  # it reset a fresh connection: it is gone
            self._drop_instance()  # no answer byte came back: safe to go again
            self.task = self.gateway.loop.create_task(self._wait())
            return
        if isinstance(error, OriginTimeout):  # the first byte came late, or a silence
            self._fail(504, "request timeout")
            return
        self._fail(error.http_status, error.message)

    def _replayable(self) -> bool:
        """Safe to send twice (RFC 9110 idempotent reads, or an Idempotency-Key)."""
        if self.request.method in REPLAYABLE:
            return True
        return any(name == b"idempotency-key" for name, _ in self.request.headers)

    # -- flow control and endings ---------------------------------------------------
    def pause(self) -> None:
        """The client is slow: stop reading from the instance."""
        if self.upstream is not None:
            self.upstream.pause_reading()

    def resume(self) -> None:
        """The client caught up."""
        if self.upstream is not None:
            self.upstream.resume_reading()

    def client_gone(self) -> None:
        """The client closed its connection: abandon the request."""
        self._abandon()
        self._finish(CLIENT_CLOSED, False)

    def timed_out(self) -> None:
        """``timeoutSeconds`` passed (the activator's text if it held the request)."""
        self._expire("activator request timeout" if self.via_activator else "request timeout")

    def _expire(self, text: str) -> None:
        if self.done:
            return
        self._abandon()
        self._fail(504, text)

    def _abandon(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
        if self.upstream is not None:
            self.upstream.abort()  # its state is unknown now; the instance sees the close

    def _fail(self, status: int, text: str) -> None:
        if self.done:
            return
        if self.held:  # the client has seen nothing: it gets the error instead of the head
            self._take_held()
        if self.written:  # the status line is out: the response can only be cut short
            self.connection.abort()
            self._finish(status, False)
            return
        self.connection.write(text_response(status, text))
        self._finish(status, self.request.keep_alive)

    def _finish(self, status: int, keep_alive: bool) -> None:
        if self.done:
            return
        self.done = True
        if self.held:  # the client went away while the head waited
            self._take_held()
        self.gateway.deadlines.discard(self, self.runtime.spec.timeout_seconds)
        runtime = self.runtime
        if self.instance is not None:
            runtime.release(self.instance)
        runtime.tracker.finished()
        if self.span is not None:
            self.span.end(status_code=status)
        metrics = self.gateway.router.metrics
        if metrics is not None:
            spec = runtime.spec
            metrics.request_finished(
                spec.namespace,
                spec.service,
                spec.name,
                status,
                time.perf_counter() - self.started,
                spec.configuration,
            )
        if status != CLIENT_CLOSED:
            self.connection.finish(keep_alive)


class Deadlines:
    """``timeoutSeconds`` for every exchange, checked a few times a second.

    A timer per request costs as much as a third of the warm path's Python; instead
    exchanges sit in one insertion-ordered dict per timeout value, so each dict is also
    in deadline order and a sweep stops at the first exchange still within its time.
    """

    TICK = 0.05

    def __init__(self) -> None:
        self._by_timeout: dict[float, dict[Exchange, float]] = {}

    def add(self, exchange: Exchange, timeout: float) -> None:
        """Watch ``exchange`` until :meth:`discard`."""
        active = self._by_timeout.get(timeout)
        if active is None:
            active = self._by_timeout[timeout] = {}
        active[exchange] = time.monotonic() + timeout

    def discard(self, exchange: Exchange, timeout: float) -> None:
        """Stop watching ``exchange`` (it finished)."""
        active = self._by_timeout.get(timeout)
        if active is not None:
            active.pop(exchange, None)

    def expired(self, now: float) -> list[Exchange]:
        """The exchanges whose deadline passed, in the order they started."""
        late: list[Exchange] = []
        for active in self._by_timeout.values():
            for exchange, deadline in active.items():
                if deadline > now:
                    break
                late.append(exchange)
        return late

    async def run(self) -> None:
        """Expire what is late, every ``TICK`` seconds, until cancelled."""
        while True:
            await asyncio.sleep(self.TICK)
            for exchange in self.expired(time.monotonic()):
                exchange.timed_out()


class Gateway(Server):
    """The data plane's server: the router decides, exchanges carry requests to revisions."""

    def __init__(
        self,
        router: Router,
        *,
        guard: Guard | None = None,
        hosts: HostPolicy | None = None,
        limits: bool = True,
    ) -> None:
        super().__init__(router.fallback, limits=limits)
        self.router = router
        self.guard = guard
        self.hosts = hosts  # None: any Host (tests, `bulut func run`)
        self._hosts_seen: dict[bytes, bool] = {}
        self.deadlines = Deadlines()
        self.head_hold = HEAD_HOLD_SECONDS  # a head arriving alone waits this long for its body

    def _foreign(self, host: bytes) -> bool:
        """True when ``host`` is not one of the platform's addresses (remembered per value)."""
        if self.hosts is None:
            return False
        split = self.router.split_for(host)
        if split is not None and split.original_host:
            return False  # a DomainMapping's domain is an address this platform serves
        allowed = self._hosts_seen.get(host)
        if allowed is None:
            allowed = self.hosts.allows(host.decode("latin-1"))
            if len(self._hosts_seen) < 4096:
                self._hosts_seen[host] = allowed
        return not allowed

    async def start(self, sock: socket.socket) -> None:
        """Serve on a bound socket; ``timeoutSeconds`` are checked from now on."""
        await super().start(sock)
        self.spawn(self.deadlines.run())

    def body_limit(self, host: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> int:
        """A service's requests: the server's limit; the broker's: its own, known by now."""
        router = self.router
        if router.split_for(host) is None:
            limit = getattr(router.fallback, "body_limit", None)
            if limit is not None:
                return min(self.max_body_bytes, int(limit(host, target, headers)))
        return self.max_body_bytes

    def dispatch(self, connection: ClientConnection, request: Request) -> None:
        """Answer one request (called in order, one at a time per connection)."""
        if self._foreign(request.host):
            error = MisdirectedHostError(
                f"Host {request.host[:100].decode('latin-1')!r} is not an address this "
                "platform serves on (add it to BULUT_ALLOWED_HOSTS if it is yours)",
                field="Host",
            )
            connection.respond(*problem_response(error, instance=request.path))
            return
        if self.guard is not None:
            self.spawn(self._guarded(connection, request))
            return
        self._route(connection, request, None)

    async def _guarded(self, connection: ClientConnection, request: Request) -> None:
        assert self.guard is not None
        scope = request.scope(self.server_address)
        try:
            await self.guard.admit(scope)
        except BulutError as error:
            connection.respond(*self.guard.rejection(error, scope["path"]))
            return
        self._route(connection, request, scope)

    async def _after_build(
        self,
        connection: ClientConnection,
        request: Request,
        scope: dict[str, Any] | None,
        key: tuple[str, str],
    ) -> None:
        """Hold a request until its revision's runtime exists, then route it again."""
        built = self.router.building.get(key)
        if built is not None:
            try:
                async with asyncio.timeout(BUILD_WAIT_SECONDS):  # a cancel is never swallowed
                    await built.wait()
            except TimeoutError:
                connection.respond_text(504, "activator request timeout")
                return
        self._route(connection, request, scope)

    async def _until_routed(
        self, connection: ClientConnection, request: Request, scope: dict[str, Any] | None
    ) -> None:
        """Hold a request for a route with no Ready revision while one starts (`bulut up`
        still starting), as Knative's activator does, then route it; 504 at the deadline."""
        router = self.router
        try:
            async with asyncio.timeout(BUILD_WAIT_SECONDS):
                while True:
                    await router.next_change()
                    split = router.split_for(request.host)
                    if split is None or split.revisions or not router.starting(split):
                        break
        except TimeoutError:
            connection.respond_text(504, "activator request timeout")
            return
        self._route(connection, request, scope)

    def _route(
        self, connection: ClientConnection, request: Request, scope: dict[str, Any] | None
    ) -> None:
        router = self.router
        split = router.split_for(request.host)
        if split is None:
            if router.fallback is None:
                connection.respond_text(404, "no service for this host")
            else:
                self.answer(connection, request, router.fallback, scope)
            return
        if split.original_host and request.host != split.target_host.encode():
            map_domain(request, split)
        revision = router.choose(split, request.headers)
        runtime = router.runtime(split, revision)
        if runtime is None:
            if revision is None and router.starting(split):  # no Ready revision yet
                self.spawn(self._until_routed(connection, request, scope))
                return
            key = (split.namespace, revision or "")
            if key in router.building:  # Knative's activator holds it until the revision runs
                router.wanted.add(key)
                self.spawn(self._after_build(connection, request, scope, key))
            else:
                connection.respond_text(503, f"revision {revision} is not available")
            return
        spec = runtime.spec
        if router.refusals and (spec.namespace, spec.name) in router.refusals:
            refused = NetworkPolicyRefusedError(router.refusals[(spec.namespace, spec.name)])
            connection.respond(*problem_response(refused, instance=request.path))
            return
        headers = request.headers
        if spec.workload.validates_events and request.raw_path not in HEALTH_TARGETS:
            try:
                validate_event(headers, request.body)
            except InvalidCloudEventError as error:
                connection.respond(*problem_response(error, instance=request.path))
                return
        parent, attributes = scan_lowercase_headers(headers)
        tracer = router.tracer
        context = tracer.next_context(parent)
        span = None
        if tracer.records(context):  # most requests are not traced (the trace budget)
            attributes["k8s.namespace.name"] = spec.namespace
            attributes["kn.service.name"] = spec.service
            attributes["kn.revision.name"] = spec.name
            attributes["http.request.method"] = request.method.decode("latin-1")
            span = tracer.span_in(context, f"router {spec.name}", parent, attributes, kind="server")
        exchange = Exchange(self, connection, request, runtime, context, span)
        connection.current = exchange
        exchange.start()
