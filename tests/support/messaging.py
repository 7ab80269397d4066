"""Channels, subscriptions and flows for tests on a running LocalPlatform.

Builders for the documents, ``ready`` (wait for a kind's Ready condition) and ``post``
(send an event to an address on the data plane, keeping its Host: no DNS is needed for
``*.localhost``).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from bulut.local import LocalPlatform
from tests.support.platform import is_ready
from tests.support.waiting import eventually

NS = "default"
MESSAGING = "messaging.knative.dev/v1"


def channel(name: str, namespace: str = NS) -> dict[str, Any]:
    """A Channel (its template comes from default-ch-webhook)."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    return {"apiVersion": MESSAGING, "kind": "Channel", "metadata": meta}


def subscription(
    name: str, channel_name: str, subscriber_uri: str, *, kind: str = "Channel", **spec: Any
) -> dict[str, Any]:
    """A Subscription of ``channel_name`` (a Channel, or ``kind``) for a subscriber URI."""
    return {
        "apiVersion": MESSAGING,
        "kind": "Subscription",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "channel": {"apiVersion": MESSAGING, "kind": kind, "name": channel_name},
            "subscriber": {"uri": subscriber_uri},
            **spec,
        },
    }


def event_headers(event_type: str = "com.example.order") -> dict[str, str]:
    """Binary-mode headers of a fresh event."""
    return {
        "ce-specversion": "1.0",
        "ce-id": str(uuid.uuid4()),
        "ce-source": "/tests",
        "ce-type": event_type,
        "content-type": "application/json",
    }


async def ready(local: LocalPlatform, kind: str, name: str, namespace: str = NS) -> dict[str, Any]:
    """The object once its Ready condition is True."""

    async def check() -> dict[str, Any] | None:
        found = await local.control.get(kind, namespace, name)
        return found if is_ready(found) else None

    return await eventually(check, f"{kind} {name} Ready", timeout=15)


async def post(
    local: LocalPlatform, address: str, headers: dict[str, str], body: bytes = b'{"n": 1}'
) -> httpx.Response:
    """POST to an address on the data plane, keeping its Host."""
    host = address.split("://", 1)[1].split("/", 1)[0]
    url = f"http://127.0.0.1:{local.settings.data_port}/"
    async with httpx.AsyncClient(timeout=60) as client:
        return await client.post(url, headers={**headers, "host": host}, content=body)
