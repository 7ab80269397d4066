"""Notifications: a Google Functions Framework function that receives CloudEvents.

It records the message it would send for the outcomes of the order flow:

    com.example.payment.authorized   "paid" message
    com.example.inventory.rejected   "could not reserve" message
    com.example.payment.declined     "payment declined" message

Each event is recorded once per (source, id) in its own SQLite database: DATABASE_URL
(``sqlite:///path``), default ``sqlite:///notifications.db`` in the working directory.

Why an HTTP-signature function and not ``@functions_framework.cloud_event``: the framework
answers every cloud_event function with ``200 OK`` and a body of ``OK``, and a Knative
trigger counts a non-empty 2xx body that is not a CloudEvent as a failed delivery (502,
retried, then dead-lettered). Decoding the event here lets the function answer what a
trigger accepts, ``204`` with no body. ``functions_framework.aio`` makes it an ASGI
function, so ``functions-framework --target notify`` (its container image, a buildpacks
image) and Bulut serve it the same way, with Starlette.
"""

import asyncio
import os
import sqlite3
import threading

import functions_framework.aio
from cloudevents.exceptions import GenericException
from cloudevents.http import from_http
from starlette.responses import PlainTextResponse, Response

MESSAGES = {
    "com.example.payment.authorized": (
        "order_paid",
        "Hello {customer}, your order {order_id} is paid ({amount} {currency}). Thank you!",
    ),
    "com.example.inventory.rejected": (
        "order_rejected",
        "Hello {customer}, we could not reserve order {order_id}: {reason}.",
    ),
    "com.example.payment.declined": (
        "payment_declined",
        "Hello {customer}, the payment for order {order_id} was declined: {reason}.",
    ),
}

SCHEMA = """
create table if not exists notifications (
    seq integer primary key autoincrement,
    source text not null,
    event_id text not null,
    kind text not null,
    order_id text,
    recipient text,
    message text not null,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    unique (source, event_id)
)
"""

_lock = threading.Lock()
_connections = {}  # (pid, path) -> this process's connection


def connection(path):
    """This process's connection to the database at ``path``, opened by its first event.

    One per process and path, kept open: opening one per event (and SQLite checkpointing and
    deleting the WAL as the last one closed) cost about ten times the insert. A process forked
    from this one opens its own (the pid is part of the key), so no instance uses another's;
    prime() opens none. Used under ``_lock``, from the framework's worker threads.
    """
    key = (os.getpid(), path)
    db = _connections.get(key)
    if db is None:
        db = sqlite3.connect(path, check_same_thread=False)
        db.execute("pragma journal_mode=wal")
        db.execute("pragma synchronous=normal")
        db.execute(SCHEMA)
        _connections[key] = db
    return db


def database_path(environ=None):
    """The SQLite file named by DATABASE_URL (sqlite:///path), default notifications.db."""
    url = (environ if environ is not None else os.environ).get("DATABASE_URL")
    url = url or "sqlite:///notifications.db"
    if not url.startswith("sqlite:///"):
        raise ValueError(f"DATABASE_URL must be sqlite:///<path> for notifications (got {url})")
    return url.removeprefix("sqlite:///")


def compose(event_type, data):
    """(kind, order id, recipient, message) for an event, or None when nothing is sent."""
    if event_type not in MESSAGES or not isinstance(data, dict):
        return None
    kind, template = MESSAGES[event_type]
    amount = data.get("amount_cents")
    fields = {
        "customer": data.get("customer") or "customer",
        "order_id": data.get("order_id") or "?",
        "amount": f"{amount / 100:.2f}" if isinstance(amount, int) else "?",
        "currency": data.get("currency") or "",
        "reason": data.get("reason") or "no reason given",
    }
    return kind, fields["order_id"], fields["customer"], template.format(**fields)


def record(path, source, event_id, kind, order_id, recipient, message):
    """Store one notification; False when this (source, id) was recorded before.

    WAL with synchronous=NORMAL: a commit survives the process dying, not a power cut (on a
    cluster the file is in the pod's /tmp), and costs no fsync.
    """
    with _lock, connection(path) as db:  # one transaction, committed when the block ends
        cursor = db.execute(
            "insert or ignore into notifications"
            " (source, event_id, kind, order_id, recipient, message) values (?, ?, ?, ?, ?, ?)",
            (source, event_id, kind, order_id, recipient, message),
        )
        return cursor.rowcount == 1


@functions_framework.aio.http
async def notify(request):
    """Record the message for an order outcome (other events are ignored): 204, no body.

    A request that is not a CloudEvent gets a 400 naming what is wrong.
    """
    if request.method != "POST":
        return PlainTextResponse("POST a CloudEvent", status_code=405, headers={"allow": "POST"})
    try:
        cloud_event = from_http(dict(request.headers), await request.body())
    except GenericException as error:
        return PlainTextResponse(f"not a CloudEvent: {error}", status_code=400)
    composed = compose(cloud_event["type"], cloud_event.data)
    if composed is not None:
        source, event_id = cloud_event["source"], cloud_event["id"]
        await asyncio.to_thread(record, database_path(), source, event_id, *composed)
    return Response(status_code=204)


def prime():
    """Bulut's hook (its zygote calls it once, before any instance exists): decode one event
    and compose its message in a worker thread, as a request does, so that an instance's
    first event finds that code warm. It touches no database and leaves no thread behind."""
    headers = {"ce-specversion": "1.0", "ce-id": "prime", "ce-source": "/prime"}
    headers.update({"ce-type": next(iter(MESSAGES)), "content-type": "application/json"})
    event = from_http(headers, b'{"order_id": "prime"}')
    asyncio.run(asyncio.to_thread(compose, event["type"], event.data))
