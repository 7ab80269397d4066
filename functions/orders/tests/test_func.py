"""The orders function: order intake, emitted events and the saga as seen from orders."""

import asyncio
import json
import logging

import httpx
from cloudevents.core.bindings.http import HTTPMessage, from_http_event, to_binary_event
from cloudevents.core.v1.event import CloudEvent
from function import new

ORDER = {
    "customer": "Ada Lovelace",
    "email": "ada@example.com",
    "items": [{"sku": "WIDGET-1", "quantity": 2}],
    "card_token": "tok_visa",
}


async def place(client, order=ORDER):
    response = await client.post("/orders", json=order)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def deliver(client, type, order_id, data=None, id=None, source="/inventory"):
    event = CloudEvent(
        attributes={
            "type": type,
            "source": source,
            "subject": order_id,
            "id": id or f"{type}-{order_id}",
            "datacontenttype": "application/json",
        },
        data={"order_id": order_id, **(data or {})},
    )
    message = to_binary_event(event)
    return await client.post("/", headers=dict(message.headers), content=message.body)


async def test_a_valid_order_is_accepted_as_pending(client):
    response = await client.post("/orders", json=ORDER)
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert set(response.json()) == {"id", "status"}


async def test_an_accepted_order_emits_order_created_in_binary_mode_with_overrides(client, sink):
    order_id = await place(client)
    [(headers, body)] = sink.requests
    assert headers["ce-type"] == "com.example.order.created"
    assert headers["ce-source"] == "/orders"
    assert headers["ce-subject"] == order_id
    assert headers["ce-env"] == "test"
    assert headers["content-type"] == "application/json"
    event = from_http_event(HTTPMessage(headers=headers, body=body))
    data = event.get_data()
    assert data["id"] == order_id
    assert data["items"] == [{"sku": "WIDGET-1", "quantity": 2}]
    assert data["card_token"] == "tok_visa"
    assert "email" not in data  # personal data stays in the orders database


async def test_the_projected_oidc_token_goes_with_each_event_and_is_reread(
    database_url, sink, tmp_path
):
    """Knative's SinkBinding with authentication-oidc: the token file's current content."""
    token_file = tmp_path / "oidc" / "token"
    token_file.parent.mkdir()
    token_file.write_text("first-token\n")
    f = new()
    f.start(
        {"DATABASE_URL": database_url, "K_SINK": sink.url, "K_OIDC_TOKEN_FILE": str(token_file)}
    )
    try:
        transport = httpx.ASGITransport(app=f.handle)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
            await place(client)
            token_file.write_text("renewed-token")
            await place(client)
    finally:
        f.stop()
    sent = [headers.get("authorization") for headers, _ in sink.requests]
    assert sent == ["Bearer first-token", "Bearer renewed-token"]


async def test_without_a_token_file_no_authorization_is_sent(client, sink):
    await place(client)
    [(headers, _)] = sink.requests
    assert "authorization" not in headers


async def test_invalid_orders_get_422_naming_each_field(client, sink):
    response = await client.post(
        "/orders",
        json={"customer": "", "items": [{"sku": "X", "quantity": 0}], "email": "nope"},
    )
    assert response.status_code == 422
    fields = {tuple(error["loc"][1:]) for error in response.json()["detail"]}
    assert {("customer",), ("items", 0, "quantity"), ("email",), ("card_token",)} <= fields
    assert sink.requests == []


async def test_an_order_without_items_is_rejected(client):
    response = await client.post("/orders", json={**ORDER, "items": []})
    assert response.status_code == 422


async def test_without_k_sink_the_order_is_stored_and_nothing_is_emitted(database_url, caplog):
    f = new()
    f.start({"DATABASE_URL": database_url})
    transport = httpx.ASGITransport(app=f.handle)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
        order_id = await place(client)
        assert (await client.get(f"/orders/{order_id}")).json()["status"] == "pending"
    assert "K_SINK is not set" in caplog.text
    f.stop()


async def test_an_unreachable_sink_is_a_502_that_says_the_order_is_stored(database_url):
    f = new()
    f.start({"DATABASE_URL": database_url, "K_SINK": "http://127.0.0.1:9/", "K_SINK_TIMEOUT": "2"})
    transport = httpx.ASGITransport(app=f.handle)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
        response = await client.post("/orders", json=ORDER)
    assert response.status_code == 502
    assert "stored as pending" in response.json()["detail"]
    f.stop()


async def test_an_unknown_order_is_404(client):
    assert (await client.get("/orders/nope")).status_code == 404


async def test_the_happy_path_goes_pending_reserved_paid(client):
    order_id = await place(client)
    response = await deliver(
        client,
        "com.example.inventory.reserved",
        order_id,
        {"amount_cents": 3998, "currency": "EUR"},
    )
    assert (response.status_code, response.content) == (204, b"")
    assert (await client.get(f"/orders/{order_id}")).json()["status"] == "reserved"
    await deliver(client, "com.example.payment.authorized", order_id, source="/payments")
    view = (await client.get(f"/orders/{order_id}")).json()
    assert view["status"] == "paid"
    assert view["amount_cents"] == 3998
    assert [seen["type"] for seen in view["history"]] == [
        "com.example.order.created",
        "com.example.inventory.reserved",
        "com.example.payment.authorized",
    ]
    assert [seen["status"] for seen in view["history"]] == ["pending", "reserved", "paid"]


async def test_out_of_stock_rejects_the_order(client):
    order_id = await place(client)
    await deliver(client, "com.example.inventory.rejected", order_id, {"reason": "out of stock"})
    view = (await client.get(f"/orders/{order_id}")).json()
    assert (view["status"], view["reason"]) == ("rejected", "out of stock")


async def test_a_declined_payment_cancels_the_order(client):
    order_id = await place(client)
    await deliver(client, "com.example.inventory.reserved", order_id)
    await deliver(
        client,
        "com.example.payment.declined",
        order_id,
        {"reason": "card_declined"},
        source="/payments",
    )
    assert (await client.get(f"/orders/{order_id}")).json()["status"] == "cancelled"


async def test_a_late_reservation_does_not_move_a_paid_order_back(client):
    order_id = await place(client)
    await deliver(client, "com.example.payment.authorized", order_id, source="/payments")
    await deliver(client, "com.example.inventory.reserved", order_id)
    view = (await client.get(f"/orders/{order_id}")).json()
    assert view["status"] == "paid"
    assert len(view["history"]) == 3


async def test_a_redelivered_event_is_recorded_once(client):
    order_id = await place(client)
    for _ in range(3):
        response = await deliver(client, "com.example.inventory.reserved", order_id, id="same")
        assert response.status_code == 204
    history = (await client.get(f"/orders/{order_id}")).json()["history"]
    assert len(history) == 2


async def test_a_structured_event_is_accepted_too(client):
    order_id = await place(client)
    event = {
        "specversion": "1.0",
        "type": "com.example.inventory.rejected",
        "source": "/inventory",
        "id": "s-1",
        "data": {"order_id": order_id, "reason": "unknown sku"},
    }
    response = await client.post(
        "/", content=json.dumps(event), headers={"content-type": "application/cloudevents+json"}
    )
    assert response.status_code == 204
    assert (await client.get(f"/orders/{order_id}")).json()["status"] == "rejected"


async def test_a_plain_post_to_the_event_endpoint_is_400(client):
    response = await client.post("/", json={"hello": "world"})
    assert response.status_code == 400


async def test_an_event_for_an_unknown_order_is_422_so_it_is_dead_lettered(client):
    response = await deliver(client, "com.example.inventory.reserved", "missing")
    assert response.status_code == 422


async def test_unrelated_event_types_are_acknowledged_and_ignored(client):
    response = await deliver(client, "com.example.other", "x")
    assert (response.status_code, response.content) == (204, b"")


def test_readiness_needs_a_started_function(database_url):
    f = new()
    assert f.ready()[0] is False
    f.start({"DATABASE_URL": database_url})
    assert f.ready() == (True, "Ready")
    assert f.alive() == (True, "Alive")
    f.stop()


def test_after_prime_an_instance_compiles_no_statement_of_its_own(database_url, caplog):
    """prime() rehearses what readiness asks and what an order's requests run, so none of it
    is compiled on an instance's path."""
    f = new()
    f.prime()  # as in the zygote: before any event loop of the instance
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine.Engine")
    f.start({"DATABASE_URL": database_url})
    assert f.ready() == (True, "Ready")

    async def first_requests():
        transport = httpx.ASGITransport(app=f.handle)
        async with httpx.AsyncClient(transport=transport, base_url="http://orders") as client:
            order_id = await place(client)
            assert (await client.get(f"/orders/{order_id}")).status_code == 200
            reserved = await deliver(client, "com.example.inventory.reserved", order_id)
            assert reserved.status_code == 204

    asyncio.run(first_requests())
    compiled = [r.getMessage() for r in caplog.records if "[generated in" in r.getMessage()]
    assert compiled == []
    f.stop()
