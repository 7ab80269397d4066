"""The notifications function as the Functions Framework serves it.

Most tests call the framework's ASGI app in-process (what Bulut serves); one runs the
container image's own command, ``functions-framework --target notify``, as a process.
"""

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import main
import pytest
from functions_framework.aio import create_asgi_app

SOURCE = main.__file__
CONTAINERFILE = Path(SOURCE).with_name("Containerfile")


@pytest.fixture
def database(tmp_path, monkeypatch):
    path = tmp_path / "notifications.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    return path


@pytest.fixture
def app(database):
    return create_asgi_app(target="notify", source=SOURCE, signature_type="http")


def call(app, method="POST", headers=(), body=b""):
    """One HTTP request through the ASGI app: (status, headers, body)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8080),
    }
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    answer = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], dict(start["headers"]), answer


def event_headers(type, id="e-1", source="/payments"):
    return [
        ("ce-specversion", "1.0"),
        ("ce-type", type),
        ("ce-source", source),
        ("ce-id", id),
        ("content-type", "application/json"),
    ]


def post(app, type, data, id="e-1", source="/payments"):
    return call(app, headers=event_headers(type, id, source), body=json.dumps(data).encode())


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


def test_a_paid_order_records_a_paid_message(app, database):
    post(app, "com.example.payment.authorized", AUTHORIZED)
    assert rows(database) == [
        ("order_paid", "o-1", "Ada", "Hello Ada, your order o-1 is paid (39.98 EUR). Thank you!")
    ]


def test_a_rejected_order_records_the_reason(app, database):
    post(
        app,
        "com.example.inventory.rejected",
        {"order_id": "o-2", "customer": "Bob", "reason": "out of stock: GIZMO-3"},
        source="/inventory",
    )
    [(kind, _, _, message)] = rows(database)
    assert kind == "order_rejected"
    assert "out of stock: GIZMO-3" in message


def test_a_declined_payment_records_a_declined_message(app, database):
    post(
        app,
        "com.example.payment.declined",
        {"order_id": "o-3", "customer": "Cy", "reason": "card_declined"},
    )
    assert rows(database)[0][0] == "payment_declined"


def test_a_redelivered_event_is_recorded_once(app, database):
    for _ in range(3):
        post(app, "com.example.payment.authorized", AUTHORIZED)
    assert len(rows(database)) == 1


def test_other_events_record_nothing(app, database):
    post(app, "com.example.order.created", {"id": "o-1"}, source="/orders")
    assert rows(database) == []


def test_an_event_is_answered_204_with_no_body(app, database):
    # What a Knative trigger accepts as delivered: an empty 2xx (a non-empty body that is
    # not a CloudEvent would be a 502 at the broker, retried and dead-lettered).
    assert post(app, "com.example.payment.authorized", AUTHORIZED)[::2] == (204, b"")
    assert post(app, "com.example.order.created", {"id": "o-1"})[::2] == (204, b"")


def test_a_structured_event_is_accepted(app, database):
    envelope = {
        "specversion": "1.0",
        "type": "com.example.payment.authorized",
        "source": "/payments",
        "id": "e-9",
        "datacontenttype": "application/json",
        "data": AUTHORIZED,
    }
    headers = [("content-type", "application/cloudevents+json")]
    status, _, _ = call(app, headers=headers, body=json.dumps(envelope).encode())
    assert status == 204
    assert rows(database)[0][0] == "order_paid"


def test_a_post_that_is_not_a_cloudevent_is_a_400_naming_the_problem(app, database):
    status, headers, body = call(
        app, headers=[("content-type", "application/json")], body=b'{"hello": "world"}'
    )
    assert status == 400
    assert body.startswith(b"not a CloudEvent: ")
    assert headers[b"content-type"].startswith(b"text/plain")
    assert rows(database) == []


def test_other_methods_are_a_405(app):
    status, headers, _ = call(app, method="GET")
    assert (status, headers[b"allow"]) == (405, b"POST")


def test_only_sqlite_urls_are_accepted():
    with pytest.raises(ValueError, match="DATABASE_URL"):
        main.database_path({"DATABASE_URL": "postgresql://x/y"})


def container_command():
    """The Containerfile's CMD, as a list."""
    for line in CONTAINERFILE.read_text().splitlines():
        if line.startswith("CMD "):
            return json.loads(line.removeprefix("CMD "))
    raise AssertionError("no CMD in the Containerfile")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port, body, headers, deadline):
    """POST to the server once it accepts connections: (status, body)."""
    message = urllib.request.Request(f"http://127.0.0.1:{port}/", body, dict(headers))
    while True:
        try:
            with urllib.request.urlopen(message, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_the_container_command_answers_an_event_204_with_no_body(database):
    """``functions-framework --target notify`` (gunicorn, the image's CMD) serves the
    function as an ASGI app too, so the image answers what Bulut answers."""
    command = container_command()
    assert command[0] == "functions-framework"
    port = free_port()
    command[command.index("--port") + 1] = str(port)
    command[command.index("--host") + 1] = "127.0.0.1"
    bin_dir = os.path.dirname(sys.executable)
    server = subprocess.Popen(
        [os.path.join(bin_dir, command[0]), *command[1:]],
        cwd=os.path.dirname(SOURCE),
        env={**os.environ, "DATABASE_URL": f"sqlite:///{database}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        body = json.dumps(AUTHORIZED).encode()
        headers = event_headers("com.example.payment.authorized")
        status, answer = request(port, body, headers, time.monotonic() + 60)
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert (status, answer) == (204, b""), errors.decode(errors="replace")[-2000:]
    assert rows(database)[0][0] == "order_paid"


def test_prime_warms_without_a_database_or_a_thread_left(database):
    """prime() is what Bulut's zygote runs before any instance."""
    import threading

    threads = threading.active_count()
    main.prime()
    assert threading.active_count() == threads
    assert not database.exists()


def test_a_process_keeps_one_connection_and_a_forked_one_opens_its_own(app, database):
    """Events of one instance go through its one connection; an instance forked from a process
    that has one (as a zygote's children are forked) never uses it."""
    post(app, "com.example.payment.authorized", AUTHORIZED, id="e-1")
    mine = main.connection(str(database))
    post(app, "com.example.payment.authorized", AUTHORIZED, id="e-2")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # another instance
        try:
            status, _, _ = post(app, "com.example.payment.authorized", AUTHORIZED, id="e-3")
            shared = main.connection(str(database)) is mine
            os.write(write, json.dumps([status, shared]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        child = json.load(answer)
    os.waitpid(pid, 0)

    assert main.connection(str(database)) is mine
    assert child == [204, False]
    assert len(rows(database)) == 3
