"""The orders HTTP API (FastAPI), called by the function as a raw ASGI app.

    POST /orders          validate, store (pending), emit com.example.order.created;
                          201 {id, status}
    GET  /orders/{id}     the order, its saga status and the history of events seen
    POST /                CloudEvents from triggers (inventory/payment outcomes) → 204, empty body

Behind a Knative trigger a non-empty 2xx body that is not a CloudEvent counts as a failed
delivery, so the CloudEvent endpoint answers 204 with nothing in the body.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from cloudevents.core.exceptions import BaseCloudEventException
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from . import pii, saga
from .sink import Sink
from .store import Order, OrderEvent, OrderStore

log = logging.getLogger(__name__)

SOURCE = "/orders"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=1000)


class OrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer: str = Field(min_length=1, max_length=200)
    items: list[Item] = Field(min_length=1, max_length=50)
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    card_token: str = Field(min_length=1, max_length=64)


class OrderAccepted(BaseModel):
    id: str
    status: str


def order_data(order: Order) -> dict[str, Any]:
    """The data of com.example.order.created: the order as accepted.

    The e-mail address (personal data) stays in the orders database and is not sent; the
    card token is the Transit ciphertext stored (only payments may decrypt it).
    """
    return {
        "id": order.id,
        "customer": order.customer,
        "items": order.items,
        "card_token": order.card_token,
        "status": order.status,
    }


def order_view(order: Order, history: list[OrderEvent], email: str | None) -> dict[str, Any]:
    return {
        "id": order.id,
        "customer": order.customer,
        "email": pii.mask(email),
        "items": order.items,
        "status": order.status,
        "amount_cents": order.amount_cents,
        "currency": order.currency,
        "reason": order.reason,
        "created_at": order.created_at.isoformat(),
        "updated_at": order.updated_at.isoformat(),
        "history": [
            {
                "type": seen.type,
                "id": seen.event_id,
                "source": seen.source,
                "status": seen.status,
                "received_at": seen.received_at.isoformat(),
            }
            for seen in history
        ],
    }


class Services:
    """What the routes use: the store, the sink and the ciphers of one instance.

    The app (its routes and models, slow to build) can be made before them: Bulut's zygote
    builds it once in ``prime()``, and each instance fills its own services in ``start(cfg)``.
    """

    def __init__(
        self, store: Any = None, sink: Any = None, cipher: Any = None, cards: Any = None
    ) -> None:
        self.store: OrderStore = store
        self.sink: Sink = sink
        self.cipher: Any = cipher or pii.PlainText()
        self.cards: Any = cards or pii.PlainText()


def create_app(services: Services) -> FastAPI:
    """The orders API over ``services`` (read at each request)."""
    app = FastAPI(title="orders", docs_url=None, redoc_url=None)

    @app.post("/orders", status_code=201, response_model=OrderAccepted)
    def create_order(request: OrderRequest) -> OrderAccepted:
        store, sink, cipher = services.store, services.sink, services.cipher
        order = Order(
            id=str(uuid.uuid4()),
            customer=request.customer,
            email=cipher.encrypt(request.email),
            card_token=services.cards.encrypt(request.card_token),
            items=[item.model_dump() for item in request.items],
            status=saga.PENDING,
        )
        event = sink.build(
            {"type": saga.ORDER_CREATED, "source": SOURCE, "subject": order.id},
            order_data(order),
        )
        created = OrderEvent(
            order_id=order.id,
            event_id=event.get_id(),
            source=SOURCE,
            type=saga.ORDER_CREATED,
            status=saga.PENDING,
        )
        store.add(order, created)
        try:
            sink.emit(event)
        except Exception as error:  # the order is stored; report and let the caller see it
            log.error("could not emit %s for order %s: %s", saga.ORDER_CREATED, order.id, error)
            raise HTTPException(
                status_code=502,
                detail=f"order {order.id} stored as pending, but {saga.ORDER_CREATED} "
                f"could not be delivered to K_SINK: {error}",
            ) from None
        return OrderAccepted(id=order.id, status=order.status)

    @app.get("/orders/{order_id}")
    def show_order(order_id: str) -> dict[str, Any]:
        found = services.store.get(order_id)
        if found is None:
            raise HTTPException(status_code=404, detail=f"order {order_id} not found")
        order, history = found
        return order_view(order, history, services.cipher.decrypt(order.email))

    @app.post("/")
    async def receive_event(request: Request) -> Response:
        body = await request.body()
        headers = {key.lower(): value for key, value in request.headers.items()}
        binary = not headers.get("content-type", "").startswith("application/cloudevents")
        if binary and "ce-id" not in headers:
            return _problem(400, "binary CloudEvent without ce-id")
        try:
            event = from_http_event(HTTPMessage(headers=headers, body=body))
        except (BaseCloudEventException, ValueError, AttributeError) as error:
            return _problem(400, f"not a CloudEvent: {error}")
        return _advance(services.store, event)

    return app


def _advance(store: OrderStore, event: Any) -> Response:
    event_type = event.get_type()
    if not saga.handles(event_type):
        log.info("ignoring event type %s", event_type)
        return Response(status_code=204)
    data = event.get_data()
    order_id = data.get("order_id") if isinstance(data, dict) else None
    order_id = order_id or event.get_subject()
    if not order_id:
        return _problem(422, f"{event_type} {event.get_id()}: data.order_id is missing")

    def apply(order: Order) -> None:
        order.status = saga.advance(order.status, event_type)
        if isinstance(data, dict):
            order.amount_cents = data.get("amount_cents", order.amount_cents)
            order.currency = data.get("currency", order.currency)
            order.reason = data.get("reason", order.reason)

    updated = store.record(
        str(order_id),
        event_id=event.get_id(),
        source=event.get_source(),
        type=event_type,
        apply=apply,
    )
    if updated is None:
        return _problem(422, f"{event_type} {event.get_id()}: order {order_id} is unknown")
    return Response(status_code=204)


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse(
        {"title": "Bad event", "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )
