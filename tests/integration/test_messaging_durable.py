"""A Channel backed by a KafkaChannel keeps its events across a platform restart (ADR 0017).

The same YAML runs on a cluster with Knative Kafka; locally the KafkaChannel is served from the
durable event log: the sender gets 202 once the event is fsync'd, and an event its subscriber
has not taken yet is delivered by the next platform started on the same state directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.eventing import Answer, Received, subscriber
from tests.support.messaging import MESSAGING, NS, event_headers, post, ready, subscription
from tests.support.platform import local_settings, running_platform
from tests.support.waiting import eventually

pytestmark = pytest.mark.asyncio

KAFKA_CHANNEL = {"apiVersion": "messaging.knative.dev/v1beta1", "kind": "KafkaChannel"}


def kafka_backed_channel(name: str) -> dict[str, Any]:
    return {
        "apiVersion": MESSAGING,
        "kind": "Channel",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"channelTemplate": KAFKA_CHANNEL},
    }


async def test_an_accepted_event_is_delivered_after_a_restart(tmp_path: Path) -> None:
    down = True
    delivered: list[Received] = []

    def respond(request: Received, n: int) -> Answer:
        if down:
            return 503, [], b"down"
        delivered.append(request)
        return 200, [], b""

    retry_forever = {"retry": 1000, "backoffPolicy": "linear", "backoffDelay": "PT0.05S"}
    async with subscriber(respond=respond) as audit:
        async with running_platform(local_settings(tmp_path)) as first:
            await first.apply_documents(
                [
                    kafka_backed_channel("orders"),
                    subscription("audit", "orders", audit.url, delivery=retry_forever),
                ]
            )
            channel = await ready(first, "Channel", "orders")
            await ready(first, "Subscription", "audit")
            backing = await first.control.get("KafkaChannel", NS, "orders")
            assert backing["spec"]["subscribers"][0]["subscriberUri"] == audit.url
            assert backing["spec"]["retentionDuration"] == "PT168H"  # Knative Kafka's default
            headers = event_headers()
            answer = await post(first, channel["status"]["address"]["url"], headers)
            # durable: answered once logged, while the subscriber still fails
            assert answer.status_code == 202, answer.text
            await eventually(lambda: len(audit.received) >= 2, "the subscriber to be retried")
        tried = len(audit.received)
        down = False
        async with running_platform(local_settings(tmp_path)):
            await eventually(lambda: bool(delivered), "the event to be delivered after the restart")
    assert len(audit.received) > tried
    assert [r.headers["ce-id"] for r in delivered] == [headers["ce-id"]]
    assert delivered[0].headers["prefer"] == "reply"
