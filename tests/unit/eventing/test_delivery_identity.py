"""Every delivery names its sender; with the platform's issuer it carries that sender's token.

Real HTTP: a loopback recorder stands in for the subscriber and the dead-letter sink.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bulut.edge import PlatformIssuer, identity
from bulut.eventing.capacity import Capacity
from bulut.eventing.delivery import Deliverer
from bulut.eventing.delivery_spec import DeliverySpec
from bulut.eventing.records import StoredEvent
from bulut.eventing.sinks import Target, resolve_sink
from bulut.eventing.sources.ping import PingSpec
from bulut.eventing.sources.ping_runner import PingRunner
from bulut.events import CloudEvent
from bulut.httpd import Client
from tests.support.recorders import EchoServer, serve

AUDIT = "serving.knative.dev/service/shop/audit"
SENDER = identity.trigger("shop", "audit-trigger")


@pytest.fixture
def subscriber() -> Iterator[EchoServer]:
    yield from serve(reply=False)


async def _refuse(namespace: str, broker: str, event: CloudEvent) -> int:
    return 500


def _event() -> StoredEvent:
    headers = [(b"ce-specversion", b"1.0"), (b"ce-id", b"1"), (b"ce-source", b"/t")]
    headers.append((b"ce-type", b"t"))
    return StoredEvent(1, "shop", "default", "1", "/t", "t", 255, {}, headers, b"{}")


def _target(port: int, audience: str | None) -> Target:
    return Target(
        f"http://127.0.0.1:{port}/", "127.0.0.1", port, f"127.0.0.1:{port}", "/", audience=audience
    )


async def test_a_delivery_carries_the_senders_token_for_the_targets_audience(
    subscriber: EchoServer,
) -> None:
    issuer = PlatformIssuer("http://127.0.0.1:1/oidc")
    client = Client()
    deliverer = Deliverer(client, Capacity(4).gate, _refuse, issuer=issuer)
    try:
        outcome = await deliverer.deliver(
            _event(),
            SENDER.namespace + "/" + SENDER.name,
            _target(subscriber.port, AUDIT),
            DeliverySpec(),
            None,
            sender=SENDER,
        )
    finally:
        client.close()
    assert outcome.outcome == "delivered"
    [(headers, _)] = subscriber.requests
    scheme, _, token = headers["authorization"].partition(" ")
    assert scheme == "Bearer"
    assert issuer.verify(token, AUDIT)["sub"] == SENDER.subject


async def test_a_dead_letter_goes_with_the_same_sender_for_the_sinks_audience(
    subscriber: EchoServer,
) -> None:
    issuer = PlatformIssuer("http://127.0.0.1:1/oidc")
    client = Client()
    deliverer = Deliverer(client, Capacity(4).gate, _refuse, issuer=issuer)
    gone = _target(9, AUDIT)  # nothing listens on port 9: the attempt fails
    dead_letters = "serving.knative.dev/service/shop/dead-letters"
    try:
        outcome = await deliverer.deliver(
            _event(),
            "shop/audit-trigger",
            gone,
            DeliverySpec(),
            _target(subscriber.port, dead_letters),
            sender=SENDER,
        )
    finally:
        client.close()
    assert outcome.outcome == "dead-lettered"
    [(headers, _)] = subscriber.requests
    token = headers["authorization"].removeprefix("Bearer ")
    assert issuer.verify(token, dead_letters)["sub"] == SENDER.subject


async def test_no_token_goes_to_a_sink_without_an_audience_or_without_an_issuer(
    subscriber: EchoServer,
) -> None:
    """As in Knative: a sink that announces no audience gets no token; auth off, none at all."""
    client = Client()
    with_issuer = Deliverer(
        client, Capacity(4).gate, _refuse, issuer=PlatformIssuer("http://127.0.0.1:1/oidc")
    )
    without = Deliverer(client, Capacity(4).gate, _refuse)
    try:
        await with_issuer.send(_target(subscriber.port, None), [], b"", 5, sender=SENDER)
        await without.send(_target(subscriber.port, AUDIT), [], b"", 5, sender=SENDER)
    finally:
        client.close()
    assert [("authorization" in headers) for headers, _ in subscriber.requests] == [False, False]


def test_targets_of_this_data_plane_announce_their_audience() -> None:
    service = resolve_sink("http://audit.shop.localhost:8080/", host="127.0.0.1", data_port=8080)
    broker = resolve_sink("http://127.0.0.1:8080/shop/default", host="127.0.0.1", data_port=8080)
    outside = resolve_sink("http://127.0.0.1:5555/hook", host="127.0.0.1", data_port=8080)
    assert service.audience == AUDIT
    assert broker.audience == "eventing.knative.dev/broker/shop/default"
    assert outside.audience is None


async def test_a_pingsource_sends_as_itself() -> None:
    sent: asyncio.Queue[identity.Identity] = asyncio.Queue()

    async def send(url: str, event: CloudEvent, sender: identity.Identity) -> int:
        sent.put_nowait(sender)
        return 202

    runner = PingRunner(send)
    runner.apply(
        PingSpec("shop", "heartbeat", "* * * * * *", None, None, None, sink_uri="http://x/")
    )
    try:
        sender = await asyncio.wait_for(sent.get(), timeout=5)
    finally:
        await runner.aclose()
    assert sender == identity.ping_source("shop", "heartbeat")
