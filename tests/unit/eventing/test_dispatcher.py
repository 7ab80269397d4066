"""The dispatcher: each trigger gets the events its filter matches, at most
``max_in_progress`` at once, and every trigger's cursor moves past every event.

Real pieces: the broker's SQLite log in a temporary directory, the deliverer's HTTP client,
and loopback servers standing in for the subscribers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bulut.eventing import queries
from bulut.eventing.capacity import Capacity
from bulut.eventing.delivery import Deliverer
from bulut.eventing.dispatcher import Dispatcher
from bulut.eventing.log import EventLog
from bulut.eventing.records import Outcome, StoredEvent
from bulut.eventing.resources import Broker, Trigger
from bulut.eventing.sinks import Target, resolve_sink
from bulut.events import CloudEvent
from bulut.httpd import Client
from tests.support.recorders import EchoServer, serve
from tests.unit.httpd.origins import OK, Origin, read_request

NS = "shop"


async def _refuse(namespace: str, broker: str, event: CloudEvent) -> int:
    return 500


def _resolve(url: str) -> Target:
    return resolve_sink(url, host="127.0.0.1", data_port=1)


@pytest.fixture
def orders() -> Iterator[EchoServer]:
    yield from serve(reply=False)


@pytest.fixture
def payments() -> Iterator[EchoServer]:
    yield from serve(reply=False)


@pytest.fixture
def audit() -> Iterator[EchoServer]:
    yield from serve(reply=False)


@pytest.fixture
async def log(tmp_path: Path) -> AsyncIterator[EventLog]:
    event_log = EventLog(tmp_path / "broker.db")
    event_log.open()
    yield event_log
    await event_log.aclose()


def _dispatcher(log: EventLog, client: Client, max_in_progress: int = 1024) -> Dispatcher:
    deliverer = Deliverer(client, Capacity(100).gate, _refuse)
    dispatcher = Dispatcher(log, deliverer, _resolve, max_in_progress=max_in_progress)
    dispatcher.set_broker(Broker(NS, "default"))
    return dispatcher


def _trigger(name: str, port: int, event_type: str | None, version: str = "1") -> Trigger:
    return Trigger(
        NS,
        name,
        "default",
        f"http://127.0.0.1:{port}/",
        filter_attributes={"type": event_type} if event_type else {},
        version=version,
    )


async def _started(dispatcher: Dispatcher) -> None:
    """Every queue has finished its (empty) recovery."""
    await asyncio.gather(*(queue.recovery for queue in dispatcher.queues.values()))


async def _publish(log: EventLog, dispatcher: Dispatcher, *types: str) -> list[Outcome]:
    """Log one event per type, offer them, and wait for every matching trigger's outcome."""
    events = []
    for event_type in types:
        seq = log.next_seq()
        headers = [(b"ce-specversion", b"1.0"), (b"ce-id", str(seq).encode())]
        headers += [(b"ce-source", b"/t"), (b"ce-type", event_type.encode())]
        attributes = {"specversion": "1.0", "id": str(seq), "source": "/t", "type": event_type}
        events.append(StoredEvent(seq, NS, "default", str(seq), "/t", event_type, 255,
                                  attributes, headers, b"{}"))  # fmt: skip
    await log.append(events)
    return list(await asyncio.gather(*dispatcher.offer(events, want=True)))


async def _cursors_reach(log: EventLog, keys: list[str], mark: int) -> dict[str, int | None]:
    """The triggers' stored cursors once all reach ``mark`` (or after five seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5.0
    while True:
        await log.flush()
        cursors = {key: queries.cursor_of(log, key) for key in keys}
        if all(c is not None and c >= mark for c in cursors.values()) or loop.time() > deadline:
            return cursors
        await asyncio.sleep(0.01)


async def test_each_trigger_gets_the_events_of_its_type_and_every_cursor_moves_past_all(
    log: EventLog, orders: EchoServer, payments: EchoServer, audit: EchoServer
) -> None:
    client = Client()
    dispatcher = _dispatcher(log, client)
    dispatcher.set_trigger(_trigger("orders", orders.port, "order.created"))
    dispatcher.set_trigger(_trigger("payments", payments.port, "payment.authorized"))
    dispatcher.set_trigger(_trigger("audit", audit.port, None))
    try:
        await _started(dispatcher)
        first = await _publish(log, dispatcher, "order.created", "order.created")
        second = await _publish(log, dispatcher, "order.created", "inventory.reserved")
        outcomes = first + second
        assert [o.outcome for o in outcomes] == ["delivered"] * len(outcomes)
        assert sorted(o.trigger for o in outcomes) == ["shop/audit"] * 4 + ["shop/orders"] * 3
        assert [h["ce-type"] for h, _ in orders.requests] == ["order.created"] * 3
        assert payments.requests == []
        assert len(audit.requests) == 4
        keys = ["shop/orders", "shop/payments", "shop/audit"]
        assert await _cursors_reach(log, keys, log.head) == dict.fromkeys(keys, log.head)
    finally:
        await dispatcher.aclose()
        client.close()


async def test_a_trigger_whose_filter_changes_type_gets_only_the_new_type(
    log: EventLog, orders: EchoServer
) -> None:
    client = Client()
    dispatcher = _dispatcher(log, client)
    dispatcher.set_trigger(_trigger("orders", orders.port, "order.created"))
    try:
        await _started(dispatcher)
        await _publish(log, dispatcher, "order.created")
        dispatcher.set_trigger(_trigger("orders", orders.port, "order.paid", version="2"))
        outcomes = await _publish(log, dispatcher, "order.created", "order.paid")
        assert [(o.trigger, o.outcome) for o in outcomes] == [("shop/orders", "delivered")]
        assert [h["ce-type"] for h, _ in orders.requests] == ["order.created", "order.paid"]
    finally:
        await dispatcher.aclose()
        client.close()


async def test_no_more_than_max_in_progress_deliveries_of_a_trigger_are_on_the_wire(
    log: EventLog,
) -> None:
    held: list[asyncio.Future[None]] = []
    on_the_wire = most = 0
    arrived = asyncio.Event()

    async def hold_each(_: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal on_the_wire, most
        while await read_request(reader):
            on_the_wire += 1
            most = max(most, on_the_wire)
            release = asyncio.get_running_loop().create_future()
            held.append(release)
            arrived.set()
            await release
            on_the_wire -= 1
            writer.write(OK.replace(b"content-length: 2\r\n\r\nok", b"content-length: 0\r\n\r\n"))

    client = Client()
    dispatcher = _dispatcher(log, client, max_in_progress=2)
    async with Origin(hold_each) as subscriber:
        dispatcher.set_trigger(_trigger("orders", subscriber.port, "order.created"))
        try:
            await _started(dispatcher)
            publishing = asyncio.create_task(_publish(log, dispatcher, *["order.created"] * 6))
            queue = dispatcher.queues["shop/orders"]
            for done in (0, 2, 4):
                while len(held) < done + 2:
                    await arrived.wait()
                    arrived.clear()
                assert (on_the_wire, len(queue.in_progress)) == (2, 2)
                assert len(queue.pending) == 4 - done  # the rest wait off the wire
                for release in held[done:]:
                    release.set_result(None)
            outcomes = await publishing
            assert [o.outcome for o in outcomes] == ["delivered"] * 6
            assert most == 2
        finally:
            await dispatcher.aclose()
            client.close()
