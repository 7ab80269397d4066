"""The notifications function, served by the Functions Framework's own Flask app."""

import sqlite3

import main
import pytest
from functions_framework import create_app

SOURCE = main.__file__


@pytest.fixture
def database(tmp_path, monkeypatch):
    path = tmp_path / "notifications.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    return path


@pytest.fixture
def client(database):
    app = create_app(target="notify", source=SOURCE, signature_type="cloudevent")
    return app.test_client()


def post(client, type, data, id="e-1", source="/payments"):
    headers = {
        "ce-specversion": "1.0",
        "ce-type": type,
        "ce-source": source,
        "ce-id": id,
        "content-type": "application/json",
    }
    return client.post("/", json=data, headers=headers)


def rows(database):
    if not database.exists():
        return []
    with sqlite3.connect(database) as db:
        return db.execute("select kind, order_id, recipient, message from notifications").fetchall()


AUTHORIZED = {
    "order_id": "o-1",
    "customer": "Ada",
    "amount_cents": 3998,
    "currency": "EUR",
    "payment_id": "pay_1",
}


def test_a_paid_order_records_a_paid_message(client, database):
    post(client, "com.example.payment.authorized", AUTHORIZED)
    assert rows(database) == [
        ("order_paid", "o-1", "Ada", "Hello Ada, your order o-1 is paid (39.98 EUR). Thank you!")
    ]


def test_a_rejected_order_records_the_reason(client, database):
    post(
        client,
        "com.example.inventory.rejected",
        {"order_id": "o-2", "customer": "Bob", "reason": "out of stock: GIZMO-3"},
        source="/inventory",
    )
    [(kind, _, _, message)] = rows(database)
    assert kind == "order_rejected"
    assert "out of stock: GIZMO-3" in message


def test_a_declined_payment_records_a_declined_message(client, database):
    post(
        client,
        "com.example.payment.declined",
        {"order_id": "o-3", "customer": "Cy", "reason": "card_declined"},
    )
    assert rows(database)[0][0] == "payment_declined"


def test_a_redelivered_event_is_recorded_once(client, database):
    for _ in range(3):
        post(client, "com.example.payment.authorized", AUTHORIZED)
    assert len(rows(database)) == 1


def test_other_events_record_nothing(client, database):
    post(client, "com.example.order.created", {"id": "o-1"}, source="/orders")
    assert rows(database) == []


def test_the_framework_answers_200_with_a_plain_ok_body(client, database):
    # What Knative's broker sees: a non-empty 2xx body that is not a CloudEvent, which it
    # treats as a failed delivery (502). Bulut's runtime must put something in front of it.
    response = post(client, "com.example.payment.authorized", AUTHORIZED)
    assert (response.status_code, response.data) == (200, b"OK")
    assert "ce-id" not in response.headers  # case-insensitive


def test_the_health_probe_paths_are_not_served(client):
    # kn func's GET probes on /health/* would get 405: deploy as a plain Knative Service.
    assert client.get("/health/readiness").status_code == 405


def test_a_non_cloudevent_post_is_a_400_page(client):
    response = client.post("/", json={"hello": "world"})
    assert response.status_code == 400


def test_only_sqlite_urls_are_accepted():
    with pytest.raises(ValueError, match="DATABASE_URL"):
        main.database_path({"DATABASE_URL": "postgresql://x/y"})
