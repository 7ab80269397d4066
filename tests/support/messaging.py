"""Channels, subscriptions and flows for tests on a running LocalPlatform.

Builders for the documents, ``ready`` (wait for a kind's Ready condition) and ``post``
(send an event to an address on the data plane, keeping its Host: no DNS is needed for
``*.localhost``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from bulut.local import LocalPlatform
from tests.support.eventing import Answer, Received
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


def sequence(name: str, step_uris: list[str], reply_uri: str) -> dict[str, Any]:
    """A Sequence of subscriber URIs whose last reply goes to ``reply_uri``."""
    return {
        "apiVersion": "flows.knative.dev/v1",
        "kind": "Sequence",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"steps": [{"uri": uri} for uri in step_uris], "reply": {"uri": reply_uri}},
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

    return await eventually(check, f"{kind} {name} Ready", timeout=40)  # a build on a busy machine


async def post(
    local: LocalPlatform, address: str, headers: dict[str, str], body: bytes = b'{"n": 1}'
) -> httpx.Response:
    """POST to an address on the data plane, keeping its Host."""
    host = address.split("://", 1)[1].split("/", 1)[0]
    url = f"http://127.0.0.1:{local.settings.data_port}/"
    async with httpx.AsyncClient(timeout=60) as client:
        return await client.post(url, headers={**headers, "host": host}, content=body)


def appending(step: str) -> Callable[[Received, int], Answer]:
    """A step that replies with the event's data plus its own name in ``steps``."""

    def respond(request: Received, n: int) -> Answer:
        data = json.loads(request.body or b"{}")
        data["steps"] = [*data.get("steps", []), step]
        headers = [
            (b"ce-specversion", b"1.0"),
            (b"ce-id", f"{step}-{n}".encode()),
            (b"ce-source", f"/{step}".encode()),
            (b"ce-type", request.ce["type"].encode()),
            (b"content-type", b"application/json"),
        ]
        return 200, headers, json.dumps(data).encode()

    return respond
