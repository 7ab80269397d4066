"""Eventing for tests: recording subscribers and a running eventing data plane.

Real servers on loopback: the broker (``Eventing`` behind its ``bulut.httpd`` server, the
ingress answering natively) and subscribers (small raw-ASGI apps behind uvicorn) run in
the test's event loop on ephemeral ports. A :class:`Subscriber` records every request it
gets; :meth:`Runtime.settled` is the signal that nothing more will arrive: every trigger
has an outcome for every event in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulut.eventing import Eventing, Retention
from bulut.eventing.memory_feed import MemoryFeed
from bulut.eventing.standalone import EventingServer
from bulut.httpd import listen
from bulut.settings import Settings
from tests.support.network import free_port, request_body, serving
from tests.support.waiting import eventually

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


@dataclass
class Received:
    """One request a subscriber got."""

    headers: dict[str, str]
    body: bytes
    at: float
    path: str = "/"

    @property
    def ce(self) -> dict[str, str]:
        """The ``ce-*`` headers without their prefix."""
        return {k[3:]: v for k, v in self.headers.items() if k.startswith("ce-")}


@dataclass
class Subscriber:
    """A recording subscriber; ``respond`` decides each answer (default: 200, empty)."""

    respond: Callable[[Received, int], Answer | Awaitable[Answer]] | None = None
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    port: int = 0

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self.port}/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await request_body(receive)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        request = Received(headers, body, time.monotonic(), scope["path"].strip("/"))
        self.received.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            answer: Answer = (200, [], b"")
            if self.respond is not None:
                result = self.respond(request, len(self.received))
                answer = await result if asyncio.iscoroutine(result) else result  # type: ignore[assignment]
        finally:
            self.in_flight -= 1
        status, extra, payload = answer
        headers_out = [*extra, (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers_out})
        await send({"type": "http.response.body", "body": payload})

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until at least ``count`` requests arrived; all of them."""
        await eventually(
            lambda: len(self.received) >= count,
            f"{count} requests at {self.url} (got {len(self.received)})",
            timeout=timeout,
        )
        return self.received


@contextlib.asynccontextmanager
async def serving_eventing(eventing: Eventing, port: int | None = None) -> AsyncIterator[int]:
    """Serve the broker ingress (native) and ``/eventing`` (admin) as the standalone does."""
    sock = listen("127.0.0.1", port or 0)
    server = EventingServer(eventing)
    await server.start(sock)
    try:
        yield int(sock.getsockname()[1])
    finally:
        await server.stop(grace=1.0)


@contextlib.asynccontextmanager
async def subscriber(
    respond: Callable[[Received, int], Answer | Awaitable[Answer]] | None = None,
    delay: float = 0.0,
) -> AsyncIterator[Subscriber]:
    """A running recording subscriber."""
    sub = Subscriber(respond=respond, delay=delay)
    async with serving(sub) as port:
        sub.port = port
        yield sub


def broker(name: str = "default", namespace: str = "default", **spec: Any) -> dict[str, Any]:
    """A Broker object."""
    return {"kind": "Broker", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def trigger(
    name: str,
    subscriber_uri: str,
    *,
    broker_name: str = "default",
    namespace: str = "default",
    dead_letter_sink_uri: str | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A Trigger object with resolved status URLs."""
    status: dict[str, Any] = {"subscriberUri": subscriber_uri}
    if dead_letter_sink_uri:
        status["deadLetterSinkUri"] = dead_letter_sink_uri
        if "delivery" in spec:
            sink = {"deadLetterSink": {"uri": dead_letter_sink_uri}}
            spec["delivery"] = {**spec["delivery"], **sink}
    return {
        "kind": "Trigger",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"broker": broker_name, **spec},
        "status": status,
    }


@dataclass
class Runtime:
    """A running eventing data plane."""

    eventing: Eventing
    feed: MemoryFeed
    port: int

    @property
    def broker_url(self) -> str:
        """The default broker's ingress URL."""
        return f"http://127.0.0.1:{self.port}/default/default"

    async def settled(self, timeout: float = 10.0) -> None:
        """Wait until every trigger has an outcome for every event in the log (replies
        included): from then on no subscriber gets anything more until a new event comes."""
        await eventually(lambda: settled(self.eventing), "every delivery to end", timeout=timeout)


def settled(eventing: Eventing) -> bool:
    """No trigger queue holds an event without an outcome, and no redelivery is running.

    Events are offered to their triggers as they are committed (before the 202), and a
    reply re-enters the broker while its delivery is still in progress, so an idle queue
    has nothing left to send.
    """
    return not eventing._tasks and not any(
        queue.recovering or queue.pending or queue.backlog or queue.in_progress
        for queue in eventing.dispatcher.queues.values()
    )


@contextlib.asynccontextmanager
async def eventing_runtime(
    state_dir: Path,
    resources: list[dict[str, Any]],
    *,
    sync_fanout: bool = False,
    data_port: int | None = None,
    retention: Retention | None = None,
    max_event_bytes: int | None = None,
) -> AsyncIterator[Runtime]:
    """Eventing over a MemoryFeed, its ingress served on an ephemeral port.

    ``data_port`` is where ``*.localhost`` URLs are sent (a test's stand-in data plane).
    """
    port = free_port()
    settings = Settings(host="127.0.0.1", data_port=data_port or port, state_dir=state_dir)
    feed = MemoryFeed(resources)
    extra: dict[str, Any] = {} if max_event_bytes is None else {"max_event_bytes": max_event_bytes}
    eventing = Eventing(
        settings, feed, state_dir=state_dir, sync_fanout=sync_fanout, retention=retention, **extra
    )
    await eventing.open()
    runner = asyncio.create_task(eventing.run())
    try:
        async with serving_eventing(eventing, port):
            await eventually(lambda: _ready(eventing, resources), "the triggers to be ready")
            yield Runtime(eventing, feed, port)
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        await eventing.aclose()


def _ready(eventing: Eventing, resources: list[dict[str, Any]]) -> bool:
    triggers = [r for r in resources if r["kind"] == "Trigger"]
    brokers = [r for r in resources if r["kind"] == "Broker"]
    queues = eventing.dispatcher.queues
    return len(eventing.dispatcher.brokers) >= len(brokers) and all(
        f"{t['metadata']['namespace']}/{t['metadata']['name']}" in queues
        and not queues[f"{t['metadata']['namespace']}/{t['metadata']['name']}"].recovering
        for t in triggers
    )


def binary_headers(
    event_id: str, event_type: str = "demo", source: str = "/test", **extensions: str
) -> dict[str, str]:
    """Binary-mode headers of a small JSON event."""
    headers = {
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-source": source,
        "ce-type": event_type,
        "content-type": "application/json",
    }
    headers.update({f"ce-{k}": v for k, v in extensions.items()})
    return headers


def ce_map(headers: Mapping[str, str]) -> dict[str, str]:
    """``ce-*`` headers without their prefix."""
    return {k[3:]: v for k, v in headers.items() if k.startswith("ce-")}
