"""The audit function: every event appended once, no reply, nothing ever changed."""

import asyncio
import json

from cloudevents.core.v1.event import CloudEvent
from conftest import Sender


def event(type="com.example.order.created", source="/orders", id="e-1", data=None, **extra):
    attributes = {"type": type, "source": source, "id": id, **extra}
    return CloudEvent(attributes=attributes, data=data if data is not None else {"id": "o-1"})


async def call(function, e):
    send = Sender()
    await function.handle({"event": e}, None, send)
    return send


async def test_an_event_is_logged_and_answered_204_with_no_body(function):
    send = await call(function, event(subject="o-1", env="dev"))
    assert (send.events, send.status, send.body) == ([], 204, b"")
    [entry] = function.log.entries()
    assert (entry.type, entry.source, entry.event_id, entry.subject) == (
        "com.example.order.created",
        "/orders",
        "e-1",
        "o-1",
    )
    assert json.loads(entry.data) == {"id": "o-1"}
    assert json.loads(entry.attributes)["env"] == "dev"


async def test_a_redelivered_event_is_logged_once(function):
    for _ in range(3):
        send = await call(function, event())
        assert send.status == 204
    assert len(function.log.entries()) == 1


async def test_the_same_id_from_another_source_is_another_event(function):
    await call(function, event(source="/orders"))
    await call(function, event(source="/payments", type="com.example.payment.authorized"))
    assert [e.source for e in function.log.entries()] == ["/orders", "/payments"]


async def test_events_of_every_type_are_kept_in_arrival_order(function):
    types = [
        "com.example.order.created",
        "com.example.inventory.reserved",
        "com.example.payment.declined",
        "com.example.inventory.released",
        "dev.knative.sources.ping",
    ]
    for index, type in enumerate(types):
        await call(function, event(type=type, id=str(index)))
    assert [e.type for e in function.log.entries()] == types


async def test_text_payloads_are_kept_as_text(function):
    await call(function, event(data="plain text", datacontenttype="text/plain"))
    assert function.log.entries()[0].data == "plain text"


def test_readiness_follows_start(database_url):
    from function import new

    f = new()
    assert f.ready()[0] is False
    f.start({"DATABASE_URL": database_url})
    assert f.ready() == (True, "Ready")
    f.stop()


class CheckingSender(Sender):
    """Looks in the log when the answer starts: the event must be stored by then."""

    def __init__(self, function, event_id):
        super().__init__()
        self.function, self.event_id = function, event_id
        self.stored_when_answered = None

    async def http(self, message):
        if message["type"] == "http.response.start":
            ids = {entry.event_id for entry in self.function.log.entries()}
            self.stored_when_answered = self.event_id in ids
        await super().http(message)


async def test_events_arriving_together_share_one_transaction_and_are_stored_before_answered(
    function,
):
    from sqlalchemy import event as sqlalchemy_event

    commits = []
    sqlalchemy_event.listen(function.log.engine, "commit", lambda _: commits.append(1))
    senders = [CheckingSender(function, f"e-{n}") for n in range(20)]
    await asyncio.gather(
        *(function.handle({"event": event(id=s.event_id)}, None, s) for s in senders)
    )
    assert [s.status for s in senders] == [204] * 20
    assert all(s.stored_when_answered for s in senders)
    assert len(function.log.entries()) == 20
    assert len(commits) == 1


async def test_a_failed_transaction_fails_every_request_waiting_on_it(function, monkeypatch):
    def broken(rows):
        raise RuntimeError("disk full")

    monkeypatch.setattr(function.log, "append_rows", broken)
    results = await asyncio.gather(
        *(call(function, event(id=f"e-{n}")) for n in range(3)), return_exceptions=True
    )
    assert [str(r) for r in results] == ["disk full"] * 3
    monkeypatch.undo()
    assert function.log.entries() == []


async def test_a_duplicate_within_one_transaction_is_logged_once(function):
    senders = await asyncio.gather(*(call(function, event(id="same")) for _ in range(3)))
    assert [s.status for s in senders] == [204] * 3
    assert len(function.log.entries()) == 1
