"""The payments function: authorizations, declines, readiness without a key, idempotency."""

import logging
import os
import sqlite3

from cloudevents.core.v1.event import CloudEvent
from conftest import Sender
from function import new
from function.provider import Provider


def reserved(order_id="o-1", amount=3998, token="tok_visa", id=None):
    return CloudEvent(
        attributes={
            "type": "com.example.inventory.reserved",
            "source": "/inventory",
            "subject": order_id,
            "id": id or f"reserved-{order_id}",
            "datacontenttype": "application/json",
        },
        data={
            "order_id": order_id,
            "customer": "Ada",
            "amount_cents": amount,
            "currency": "EUR",
            "card_token": token,
            "items": [],
        },
    )


async def call(function, event):
    send = Sender()
    await function.handle({"event": event}, None, send)
    return send


def payments_rows(database_url):
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        return db.execute("select order_id, status from payments").fetchall()


def started(database_url, **cfg):
    f = new()
    f.start({"DATABASE_URL": database_url, **cfg})
    return f


async def test_a_reserved_order_is_authorized(database_url):
    f = started(database_url, PAYMENTS_PROVIDER_KEY="sk_test")
    send = await call(f, reserved())
    [(reply, status)] = send.events
    assert status == 200
    assert reply.get_type() == "com.example.payment.authorized"
    assert reply.get_source() == "/payments"
    assert reply.get_subject() == "o-1"
    data = reply.get_data()
    assert data["payment_id"].startswith("pay_")
    assert {k: data[k] for k in ("order_id", "customer", "amount_cents", "currency")} == {
        "order_id": "o-1",
        "customer": "Ada",
        "amount_cents": 3998,
        "currency": "EUR",
    }
    f.stop()


async def test_the_decline_token_is_declined(database_url):
    f = started(database_url, PAYMENTS_PROVIDER_KEY="sk_test")
    reply = (await call(f, reserved(token="tok_decline"))).events[0][0]
    assert reply.get_type() == "com.example.payment.declined"
    assert reply.get_data()["reason"] == "card_declined"
    f.stop()


async def test_an_amount_over_the_limit_is_declined(database_url):
    f = started(database_url, PAYMENTS_PROVIDER_KEY="sk_test", PAYMENTS_LIMIT_CENTS="5000")
    reply = (await call(f, reserved(amount=5001))).events[0][0]
    assert reply.get_data()["reason"] == "amount_over_limit"
    f.stop()


async def test_a_redelivered_event_gets_the_same_reply_and_charges_once(database_url):
    f = started(database_url, PAYMENTS_PROVIDER_KEY="sk_test")
    first = (await call(f, reserved())).events[0][0]
    second = (await call(f, reserved())).events[0][0]
    assert (first.get_id(), first.get_data()) == (second.get_id(), second.get_data())
    assert payments_rows(database_url) == [("o-1", "authorized")]
    f.stop()


async def test_an_order_is_charged_once_even_under_a_new_event_id(database_url):
    f = started(database_url, PAYMENTS_PROVIDER_KEY="sk_test")
    first = (await call(f, reserved(id="a"))).events[0][0]
    second = (await call(f, reserved(id="b"))).events[0][0]
    assert first.get_data()["payment_id"] == second.get_data()["payment_id"]
    assert len(payments_rows(database_url)) == 1
    f.stop()


async def test_without_a_key_it_is_not_ready_and_answers_503(database_url):
    f = started(database_url)
    ready, reason = f.ready()
    assert ready is False
    assert "PAYMENTS_PROVIDER_KEY" in reason
    send = await call(f, reserved())
    assert send.events == [] and send.status == 503
    assert payments_rows(database_url) == []
    f.stop()


async def test_a_key_file_rendered_after_start_makes_it_ready(database_url, tmp_path):
    key_file = tmp_path / "payments-provider-key"
    f = started(database_url, PAYMENTS_PROVIDER_KEY_FILE=str(key_file))
    assert f.ready()[0] is False
    assert "does not exist" in f.ready()[1]
    key_file.write_text("sk_from_vault\n")
    assert f.ready() == (True, "Ready")
    reply = (await call(f, reserved())).events[0][0]
    assert reply.get_type() == "com.example.payment.authorized"
    f.stop()


async def test_unrelated_events_answer_204_without_a_body(database_url):
    f = started(database_url, PAYMENTS_PROVIDER_KEY="sk_test")
    event = CloudEvent(attributes={"type": "com.example.other", "source": "/x"}, data=None)
    send = await call(f, event)
    assert (send.events, send.status, send.body) == ([], 204, b"")
    f.stop()


def test_the_provider_is_deterministic():
    one = Provider("k").charge(
        card_token="tok_visa", amount_cents=100, currency="EUR", idempotency_key="o"
    )
    two = Provider("k").charge(
        card_token="tok_visa", amount_cents=100, currency="EUR", idempotency_key="o"
    )
    other = Provider("k2").charge(
        card_token="tok_visa", amount_cents=100, currency="EUR", idempotency_key="o"
    )
    assert one == two
    assert one.payment_id != other.payment_id


async def test_a_primed_function_reads_no_key_and_touches_no_database_until_started(
    database_url,
):
    """prime() is what Bulut's zygote runs before any instance: nothing of an instance."""
    path = database_url.removeprefix("sqlite:///")
    f = new()
    f.prime()
    assert f.ready() == (False, "not started")
    assert not os.path.exists(path)
    f.start({"DATABASE_URL": database_url, "PAYMENTS_PROVIDER_KEY": "sk_test"})
    reply = (await call(f, reserved())).events[0][0]
    assert reply.get_type() == "com.example.payment.authorized"
    assert payments_rows(database_url) == [("o-1", "authorized")]
    f.stop()


def compiled_here(caplog):
    """Statements SQLAlchemy compiled (rather than found in its cache) while caplog listened."""
    return [r.getMessage() for r in caplog.records if "[generated in" in r.getMessage()]


async def test_after_prime_an_instance_compiles_no_statement_of_its_own(database_url, caplog):
    """prime() rehearses each path a first event takes, so none compiles on an instance's path."""
    f = new()
    f.prime()
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine.Engine")
    f.start({"DATABASE_URL": database_url, "PAYMENTS_PROVIDER_KEY": "sk_test"})
    assert f.ready() == (True, "Ready")
    events = (reserved(), reserved(), reserved(id="again"), reserved("o-2", token="tok_decline"))
    replies = [(await call(f, event)).events[0][0].get_type() for event in events]
    assert replies[-1] == "com.example.payment.declined"
    assert compiled_here(caplog) == []
    f.stop()
