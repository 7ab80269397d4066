"""The dashboard app over an in-memory feed, called in-process."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import httpx

from bulut.dashboard import create_dashboard
from bulut.eventing.memory_feed import MemoryFeed
from bulut.observability.metrics import PlatformMetrics
from tests.support.waiting import eventually

REVISION = {
    "kind": "Revision",
    "metadata": {"name": "orders-00001", "namespace": "default"},
    "status": {"actualReplicas": 1, "desiredReplicas": 1},
}


async def test_the_page_and_the_state_follow_the_feed_from_the_first_request() -> None:
    feed = MemoryFeed([REVISION])
    metrics = PlatformMetrics()
    metrics.request_finished("default", "orders", "orders-00001", 200, 0.01)
    dashboard = create_dashboard(feed, metrics=metrics)
    transport = httpx.ASGITransport(dashboard)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://ui") as client:
            await client.get("/")
            await eventually(lambda: dashboard.state.version, "the feed's first event")
            page = await client.get("/")
            assert page.status_code == 200 and "orders-00001" in page.text
            assert page.headers["content-type"].startswith("text/html")
            feed.put({**REVISION, "status": {"actualReplicas": 0, "desiredReplicas": 0}})
            await eventually(lambda: dashboard.state.version == 2, "the scale-down to be applied")
            state = (await client.get("/dashboard/state.json")).json()
            assert [p[1:] for p in state["series"]["default/orders-00001"]] == [[1, 1], [0, 0]]
            fragments = dashboard.fragments()
            assert "<td>1</td>" in fragments["resources"] and "scale-chart" in fragments["charts"]
    finally:
        await dashboard.aclose()


async def test_the_live_stream_sends_an_update_and_ends_when_the_dashboard_closes() -> None:
    dashboard = create_dashboard(MemoryFeed([REVISION]), eventing_base=None)
    await dashboard.start()
    messages: list[MutableMapping[str, Any]] = []
    done = asyncio.Event()

    async def receive() -> MutableMapping[str, Any]:
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        messages.append(message)

    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/dashboard/stream",
        "headers": [],
        "query_string": b"",
        "root_path": "",
    }
    stream = asyncio.create_task(dashboard(scope, receive, send))
    await eventually(lambda: len(messages) >= 2, "the first update on the stream")
    await dashboard.aclose()
    await asyncio.wait_for(stream, 2.0)
    done.set()
    assert messages[0]["status"] == 200
    first = messages[1]["body"]
    assert isinstance(first, bytes) and first.startswith(b"event: update\ndata: {")
