"""The inventory function: reservations, rejections, compensation and idempotency."""

import asyncio
import logging
import os
import sqlite3

from cloudevents.core.v1.event import CloudEvent
from conftest import Sender


def order_created(order_id="o-1", items=None, id=None):
    return CloudEvent(
        attributes={
            "type": "com.example.order.created",
            "source": "/orders",
            "subject": order_id,
            "id": id or f"created-{order_id}",
            "datacontenttype": "application/json",
        },
        data={
            "id": order_id,
            "customer": "Ada",
            "items": items if items is not None else [{"sku": "WIDGET-1", "quantity": 2}],
            "card_token": "tok_visa",
            "status": "pending",
        },
    )


def payment_declined(order_id="o-1", id=None):
    return CloudEvent(
        attributes={
            "type": "com.example.payment.declined",
            "source": "/payments",
            "subject": order_id,
            "id": id or f"declined-{order_id}",
        },
        data={"order_id": order_id, "reason": "card_declined"},
    )


async def call(function, event):
    send = Sender()
    await function.handle({"event": event}, None, send)
    return send


def stock(database_url, sku):
    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute("select stock from products where sku = ?", (sku,)).fetchone()[0]


async def test_an_order_in_stock_is_reserved_with_its_amount(function, database_url):
    send = await call(function, order_created())
    [(reply, status)] = send.events
    assert status == 200
    assert reply.get_type() == "com.example.inventory.reserved"
    assert reply.get_source() == "/inventory"
    assert reply.get_subject() == "o-1"
    assert reply.get_data() == {
        "order_id": "o-1",
        "customer": "Ada",
        "items": [{"sku": "WIDGET-1", "quantity": 2, "unit_price_cents": 1999}],
        "amount_cents": 3998,
        "currency": "EUR",
        "card_token": "tok_visa",
    }
    assert stock(database_url, "WIDGET-1") == 98


async def test_an_order_out_of_stock_is_rejected_with_a_reason(function, database_url):
    send = await call(function, order_created(items=[{"sku": "GIZMO-3", "quantity": 1}]))
    [(reply, _)] = send.events
    assert reply.get_type() == "com.example.inventory.rejected"
    assert reply.get_data()["order_id"] == "o-1"
    assert "out of stock: GIZMO-3" in reply.get_data()["reason"]


async def test_a_rejected_order_takes_no_stock_from_its_other_lines(function, database_url):
    items = [{"sku": "WIDGET-1", "quantity": 5}, {"sku": "GADGET-2", "quantity": 11}]
    send = await call(function, order_created(items=items))
    assert send.events[0][0].get_type() == "com.example.inventory.rejected"
    assert stock(database_url, "WIDGET-1") == 100
    assert stock(database_url, "GADGET-2") == 10


async def test_an_unknown_sku_is_rejected(function):
    send = await call(function, order_created(items=[{"sku": "NOPE", "quantity": 1}]))
    assert send.events[0][0].get_data()["reason"] == "unknown sku NOPE"


async def test_a_malformed_order_is_rejected_not_crashed(function):
    send = await call(function, order_created(items=[{"sku": "WIDGET-1", "quantity": 0}]))
    reply = send.events[0][0]
    assert reply.get_type() == "com.example.inventory.rejected"
    assert "quantity" in reply.get_data()["reason"]


async def test_a_redelivered_order_gets_the_same_reply_and_reserves_once(function, database_url):
    first = await call(function, order_created())
    second = await call(function, order_created())
    assert first.events[0][0].get_id() == second.events[0][0].get_id()
    assert first.events[0][0].get_data() == second.events[0][0].get_data()
    assert stock(database_url, "WIDGET-1") == 98


async def test_a_redelivery_committed_first_elsewhere_wins_and_stock_is_taken_once(database_url):
    """Two instances get the same event at once: the one that commits second undoes its
    reservation and answers with the reply the first one stored."""
    from function import new
    from sqlalchemy import event as events

    first, second = new(), new()
    first.start({"DATABASE_URL": database_url})
    second.start({"DATABASE_URL": database_url})
    created = order_created()
    replies = []

    def other_instance_meanwhile(connection, cursor, statement, *args):
        looked_up = statement.startswith("SELECT") and "FROM processed_events" in statement
        if looked_up and not replies:  # second has just found the event new
            replies.append(first.inventory.process(created))

    events.listen(second.inventory.engine, "after_cursor_execute", other_instance_meanwhile)
    send = await call(second, created)

    [(reply, _)] = send.events
    assert reply.get_id() == replies[0]["id"]
    assert reply.get_data() == replies[0]["data"]
    assert stock(database_url, "WIDGET-1") == 98
    first.stop()
    second.stop()


async def test_a_declined_payment_releases_the_reservation(function, database_url):
    await call(function, order_created())
    send = await call(function, payment_declined())
    [(reply, _)] = send.events
    assert reply.get_type() == "com.example.inventory.released"
    assert reply.get_data() == {
        "order_id": "o-1",
        "items": [{"sku": "WIDGET-1", "quantity": 2}],
        "reason": "card_declined",
    }
    assert stock(database_url, "WIDGET-1") == 100


async def test_a_redelivered_decline_releases_once(function, database_url):
    await call(function, order_created())
    await call(function, payment_declined())
    again = await call(function, payment_declined())
    assert again.events[0][0].get_type() == "com.example.inventory.released"
    assert stock(database_url, "WIDGET-1") == 100


async def test_a_second_decline_with_a_new_id_changes_nothing(function, database_url):
    await call(function, order_created())
    await call(function, payment_declined(id="d-1"))
    await call(function, payment_declined(id="d-2"))
    assert stock(database_url, "WIDGET-1") == 100


async def test_a_released_order_created_again_is_reserved_again(function, database_url):
    await call(function, order_created())
    await call(function, payment_declined())
    items = [{"sku": "WIDGET-1", "quantity": 3}]
    send = await call(function, order_created(items=items, id="created-again"))
    [(reply, _)] = send.events
    assert reply.get_type() == "com.example.inventory.reserved"
    assert reply.get_data()["amount_cents"] == 3 * 1999
    assert stock(database_url, "WIDGET-1") == 97
    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        row = db.execute("select status, amount_cents from reservations").fetchall()
    assert row == [("reserved", 3 * 1999)]


async def test_a_decline_without_reservation_answers_204_without_a_body(function):
    send = await call(function, payment_declined(order_id="ghost"))
    assert (send.events, send.status, send.body) == ([], 204, b"")


async def test_unrelated_events_answer_204_without_a_body(function):
    event = CloudEvent(attributes={"type": "com.example.other", "source": "/x"}, data=None)
    send = await call(function, event)
    assert (send.events, send.status, send.body) == ([], 204, b"")


async def test_stock_survives_a_restart_on_the_same_database(database_url):
    from function import new

    f = new()
    f.start({"DATABASE_URL": database_url})
    await call(f, order_created())
    f.stop()
    g = new()
    g.start({"DATABASE_URL": database_url})
    assert stock(database_url, "WIDGET-1") == 98
    g.stop()


def test_readiness_follows_start(database_url):
    from function import new

    f = new()
    assert f.ready()[0] is False
    f.start({"DATABASE_URL": database_url})
    assert f.ready() == (True, "Ready")
    f.stop()


async def test_a_primed_function_touches_no_database_until_started(database_url):
    """prime() is what Bulut's zygote runs before any instance: nothing of an instance."""
    from function import new

    path = database_url.removeprefix("sqlite:///")
    f = new()
    f.prime()
    assert not os.path.exists(path)
    f.start({"DATABASE_URL": database_url})
    await call(f, order_created())
    assert stock(database_url, "WIDGET-1") == 98
    f.stop()


def compiled_here(caplog):
    """Statements SQLAlchemy compiled (rather than found in its cache) while caplog listened."""
    return [r.getMessage() for r in caplog.records if "[generated in" in r.getMessage()]


async def test_after_prime_an_instance_compiles_no_statement_of_its_own(database_url, caplog):
    """prime() rehearses each path a first event takes, so none compiles on an instance's path."""
    from function import new

    f = new()
    f.prime()
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine.Engine")
    f.start({"DATABASE_URL": database_url})
    assert f.ready() == (True, "Ready")
    sold_out = order_created("o-2", [{"sku": "GIZMO-3", "quantity": 1}])
    for event in (order_created(), order_created(), payment_declined(), sold_out):
        await call(f, event)
    assert compiled_here(caplog) == []
    f.stop()


def test_a_stopped_instance_leaves_the_wal_to_the_next_one(database_url):
    """stop() leaves SQLite's WAL in place when the instance's process exits (as a zygote's
    child does: without closing anything), so the next instance's first commit appends to it
    instead of creating it again and syncing it and its folder; every commit is kept."""
    from function import new

    path = database_url.removeprefix("sqlite:///")

    def instance(order_id):
        pid = os.fork()
        if pid == 0:  # an instance in a process of its own
            f = new()
            f.start({"DATABASE_URL": database_url})
            asyncio.run(call(f, order_created(order_id)))
            f.stop()
            os._exit(0)
        assert os.waitpid(pid, 0)[1] == 0

    instance("o-1")
    left = os.stat(f"{path}-wal")
    instance("o-2")
    after = os.stat(f"{path}-wal")

    assert (after.st_ino, after.st_size > left.st_size) == (left.st_ino, True)
    assert stock(database_url, "WIDGET-1") == 96
