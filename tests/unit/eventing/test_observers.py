"""Eventing takes its observer as a constructor parameter: every record reaches it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bulut.eventing import Eventing
from bulut.eventing.memory_feed import MemoryFeed
from bulut.events import new_event
from bulut.settings import Settings

BROKER = {
    "apiVersion": "eventing.knative.dev/v1",
    "kind": "Broker",
    "metadata": {"name": "default", "namespace": "shop"},
    "spec": {},
    "status": {"address": {"url": "http://127.0.0.1:8080/shop/default"}},
}


async def test_the_observer_sees_each_accepted_event_beside_the_live_tail(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    eventing = Eventing(
        Settings(state_dir=tmp_path),
        MemoryFeed([BROKER]),
        state_dir=tmp_path,
        observe=seen.append,
    )
    await eventing.open()
    try:
        eventing.apply("ADDED", BROKER)
        event = new_event(type="order.created", source="/shop", id="o-1")
        assert await eventing.ingress.accept("shop", "default", [event]) == 202
    finally:
        await eventing.aclose()
    assert [(r["kind"], r["id"], r["broker"]) for r in seen] == [("event", "o-1", "default")]
