"""The sample order flow, end to end, with each function served by its real runtime.

Each function runs in its own environment (built by ``ensure_environment``) under the server
it gets on a cluster: func-python for the kn func functions, the Functions Framework for
notifications. The test plays the broker: it forwards each emitted or replied event to the
functions whose func.yaml subscriptions match, as a Knative trigger would.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bulut import events
from bulut.functions.environments import Environment, ensure_environment
from bulut.functions.project import Flavour, FunctionProject, load_project
from tests.conftest import REPO_ROOT
from tests.support.network import free_port
from tests.support.recorders import EchoServer, serve
from tests.support.waiting import eventually_blocking

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("sample-saga")]

# Environments are cached across test sessions (keyed by dependencies, like `.bulut/builds`).
BUILDS = REPO_ROOT / ".bulut" / "test-builds"
NAMES = ("orders", "inventory", "payments", "audit", "notifications")


@dataclass
class Running:
    project: FunctionProject
    url: str
    process: subprocess.Popen[bytes]


def wait_until_listening(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    def listening() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"function exited with {process.returncode}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    eventually_blocking(
        listening, f"a function listening on {port}", timeout=timeout, interval=0.05
    )


def launch(
    project: FunctionProject, environment: Environment, workdir: Path, **env: str
) -> tuple[Running, int]:
    """Start the function's process; it is listening once ``wait_until_listening`` returns."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    environ.update(env, DATABASE_URL=f"sqlite:///{workdir / project.name}.db")
    if project.flavour is Flavour.FUNCTIONS_FRAMEWORK:
        command = [
            str(environment.python), "-m", "functions_framework",
            "--target", str(project.target), "--signature-type", str(project.signature_type),
            "--source", str(project.path / "main.py"), "--host", "127.0.0.1", "--port", str(port),
        ]  # fmt: skip
    else:
        module = "cloudevent" if project.flavour is Flavour.CLOUDEVENTS else "http"
        code = f"from function import new\nfrom func_python.{module} import serve\nserve(new)"
        command = [str(environment.python), "-c", code]
        environ["LISTEN_ADDRESS"] = f"127.0.0.1:{port}"
    process = subprocess.Popen(
        command, cwd=workdir, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return Running(project, f"http://127.0.0.1:{port}", process), port


def start(project: FunctionProject, environment: Environment, workdir: Path, **env: str) -> Running:
    running, port = launch(project, environment, workdir, **env)
    wait_until_listening(port, running.process, 30)
    return running


@pytest.fixture(scope="module")
def environments() -> dict[str, tuple[FunctionProject, Environment]]:
    built = {}
    for name in NAMES:
        project = load_project(REPO_ROOT / "functions" / name)
        built[name] = (project, ensure_environment(project, BUILDS))
    return built


@pytest.fixture(scope="module")
def sink() -> Iterator[EchoServer]:
    yield from serve(reply=False)


@pytest.fixture(scope="module")
def flow(
    environments: dict[str, tuple[FunctionProject, Environment]],
    sink: EchoServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Running]]:
    workdir = tmp_path_factory.mktemp("saga")
    extra = {
        "orders": {"K_SINK": f"http://127.0.0.1:{sink.port}/default/default"},
        "payments": {"PAYMENTS_PROVIDER_KEY": "sk_test"},
    }
    running: dict[str, Running] = {}
    ports: dict[str, int] = {}
    try:
        for name, (project, environment) in environments.items():
            running[name], ports[name] = launch(
                project, environment, workdir, **extra.get(name, {})
            )
        for name, port in ports.items():
            wait_until_listening(port, running[name].process, 60)
        yield running
    finally:
        for each in running.values():
            each.process.terminate()
        for each in running.values():
            each.process.wait(timeout=10)


def subscribers(flow: dict[str, Running], event_type: str) -> list[str]:
    """The functions whose func.yaml subscriptions match ``event_type`` (notifications by hand)."""
    names = []
    for name, running in flow.items():
        subscriptions = running.project.func_yaml.get("deploy", {}).get("subscriptions", [])
        for subscription in subscriptions:
            wanted = subscription.get("filters", {}).get("type")
            if wanted in (None, event_type):
                names.append(name)
                break
    if event_type in (
        "com.example.payment.authorized",
        "com.example.inventory.rejected",
        "com.example.payment.declined",
    ):
        names.append("notifications")
    return sorted(names)


def deliver(flow: dict[str, Running], name: str, event: events.CloudEvent) -> httpx.Response:
    headers, body = events.encode_binary(event)
    return httpx.post(flow[name].url + "/", headers=headers, content=body, timeout=10)


def broker(flow: dict[str, Running], first: events.CloudEvent) -> list[str]:
    """Deliver ``first`` and every reply to the matching subscribers; return the trail."""
    trail: list[str] = []
    pending = [first]
    while pending:
        event = pending.pop(0)
        trail.append(event.type)
        for name in subscribers(flow, event.type):
            response = deliver(flow, name, event)
            assert response.is_success, (name, event.type, response.status_code, response.text)
            if response.content:
                pending.append(reply_of(response))
            else:
                assert response.status_code == 204, (name, event.type)
    return trail


def reply_of(response: httpx.Response) -> events.CloudEvent:
    assert response.status_code == 200, response.text
    reply = events.decode({k.lower(): v for k, v in response.headers.items()}, response.content)
    assert isinstance(reply, events.CloudEvent)
    return reply


def place_order(flow: dict[str, Running], sink: EchoServer, items: list[dict[str, object]]) -> str:
    before = len(sink.requests)
    order = {
        "customer": "Ada",
        "email": "ada@example.com",
        "items": items,
        "card_token": "tok_visa",
    }
    response = httpx.post(flow["orders"].url + "/orders", json=order, timeout=10)
    assert response.status_code == 201, response.text
    assert len(sink.requests) == before + 1
    return str(response.json()["id"])


def emitted(sink: EchoServer) -> events.CloudEvent:
    headers, body = sink.requests[-1]
    event = events.decode(headers, body)
    assert isinstance(event, events.CloudEvent)
    return event


def order_state(flow: dict[str, Running], order_id: str) -> dict[str, object]:
    response = httpx.get(f"{flow['orders'].url}/orders/{order_id}", timeout=10)
    assert response.status_code == 200
    document = response.json()
    assert isinstance(document, dict)
    return document


def test_every_function_is_ready_under_its_real_runtime(flow: dict[str, Running]) -> None:
    for name in ("orders", "inventory", "payments", "audit"):
        response = httpx.get(flow[name].url + "/health/readiness", timeout=10)
        assert response.status_code == 200, name


def test_a_paid_order_goes_through_inventory_and_payments(
    flow: dict[str, Running], sink: EchoServer
) -> None:
    order_id = place_order(flow, sink, [{"sku": "WIDGET-1", "quantity": 2}])
    created = emitted(sink)
    assert (created.type, created.source, created.subject) == (
        "com.example.order.created",
        "/orders",
        order_id,
    )
    trail = broker(flow, created)
    assert trail == [
        "com.example.order.created",
        "com.example.inventory.reserved",
        "com.example.payment.authorized",
    ]
    state = order_state(flow, order_id)
    assert (state["status"], state["amount_cents"]) == ("paid", 3998)
    history = state["history"]
    assert isinstance(history, list)
    assert [seen["status"] for seen in history] == ["pending", "reserved", "paid"]


def test_a_declined_payment_cancels_the_order_and_releases_the_stock(
    flow: dict[str, Running], sink: EchoServer
) -> None:
    order_id = place_order(flow, sink, [{"sku": "DELUXE-9", "quantity": 1}])
    trail = broker(flow, emitted(sink))
    assert trail == [
        "com.example.order.created",
        "com.example.inventory.reserved",
        "com.example.payment.declined",
        "com.example.inventory.released",
    ]
    state = order_state(flow, order_id)
    assert (state["status"], state["reason"]) == ("cancelled", "amount_over_limit")


def test_an_order_out_of_stock_is_rejected(flow: dict[str, Running], sink: EchoServer) -> None:
    order_id = place_order(flow, sink, [{"sku": "GIZMO-3", "quantity": 1}])
    trail = broker(flow, emitted(sink))
    assert trail == ["com.example.order.created", "com.example.inventory.rejected"]
    assert order_state(flow, order_id)["status"] == "rejected"


def test_a_redelivered_event_gets_the_same_reply(
    flow: dict[str, Running], sink: EchoServer
) -> None:
    place_order(flow, sink, [{"sku": "GADGET-2", "quantity": 1}])
    created = emitted(sink)
    replies = [reply_of(deliver(flow, "inventory", created)) for _ in range(2)]
    assert replies[0].type == "com.example.inventory.reserved"
    assert (replies[0].id, replies[0].json()) == (replies[1].id, replies[1].json())


def test_a_plain_post_to_a_cloudevents_function_is_a_400(flow: dict[str, Running]) -> None:
    response = httpx.post(flow["inventory"].url + "/", json={"hello": "world"}, timeout=10)
    assert response.status_code == 400


def test_payments_without_a_key_is_not_ready(
    environments: dict[str, tuple[FunctionProject, Environment]], tmp_path: Path
) -> None:
    project, environment = environments["payments"]
    running = start(project, environment, tmp_path)
    try:
        response = httpx.get(running.url + "/health/readiness", timeout=10)
        assert response.status_code == 500
        assert "PAYMENTS_PROVIDER_KEY" in response.text
    finally:
        running.process.terminate()
        running.process.wait(timeout=10)
