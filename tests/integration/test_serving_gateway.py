"""The gateway with real function processes: streamed responses, the first-byte and idle
timeouts of a Revision, and Knative-Serving-Tag header routing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.serving import (
    SERVE_MODE,
    DataPlane,
    WatchedPrepare,
    revision,
    route,
    start_data_plane,
    stop_data_plane,
)

pytestmark = pytest.mark.integration


async def deploy_slow(plane: DataPlane, **spec: Any) -> None:
    rev = revision("slow", timeout_seconds=int(spec.pop("timeoutSeconds", 30)))
    rev["metadata"]["annotations"].update(SERVE_MODE)
    rev["spec"].update(spec)
    plane.feed.put(rev)
    plane.feed.put(route("slow", [("slow-00001", 100, "")]))
    await plane.wait_built("slow-00001")
    await plane.wait_ready("slow-00001")


async def test_a_streamed_response_reaches_the_client_chunk_by_chunk(plane: DataPlane) -> None:
    await deploy_slow(plane)
    arrivals: list[float] = []
    lines: list[str] = []

    async with plane.client.stream(
        "GET", "/?ms=0&chunks=3&gap=400", headers=plane.host("slow")
    ) as reply:
        async for line in reply.aiter_lines():
            arrivals.append(time.monotonic())
            lines.append(line)

    assert reply.status_code == 200
    assert [line.split()[1] for line in lines] == ["0", "1", "2"]
    assert arrivals[-1] - arrivals[0] > 0.6, "the chunks arrived together: the gateway buffered"


async def test_response_start_timeout_answers_504_when_the_first_byte_is_late(
    plane: DataPlane,
) -> None:
    await deploy_slow(plane, timeoutSeconds=30, responseStartTimeoutSeconds=1)
    started = time.monotonic()

    reply = await plane.client.get("/?ms=4000", headers=plane.host("slow"))

    assert reply.status_code == 504
    assert reply.text.strip() == "request timeout"
    assert time.monotonic() - started < 3.5


async def test_idle_timeout_cuts_a_stream_that_stops_writing_but_not_one_that_keeps_on(
    plane: DataPlane,
) -> None:
    await deploy_slow(plane, timeoutSeconds=30, idleTimeoutSeconds=1)

    steady = await plane.client.get("/?ms=0&chunks=4&gap=300", headers=plane.host("slow"))
    with pytest.raises(httpx.RemoteProtocolError):
        await plane.client.get("/?ms=0&chunks=2&gap=3000", headers=plane.host("slow"))

    assert steady.status_code == 200
    assert len(steady.text.splitlines()) == 4


async def test_the_tag_header_routes_only_when_the_feature_is_enabled(plane: DataPlane) -> None:
    plane.feed.put(revision("crashy", 1))
    plane.feed.put(revision("crashy", 2))
    plane.feed.put(route("crashy", [("crashy-00001", 0, "old"), ("crashy-00002", 100, "")]))
    await plane.wait_built("crashy-00001")
    await plane.wait_built("crashy-00002")

    async def revision_for(tag: str) -> str:
        reply = await plane.client.get(
            "/", headers={**plane.host("crashy"), "knative-serving-tag": tag}
        )
        return str(reply.json()["env"]["K_REVISION"])

    disabled = await revision_for("old")
    plane.feed.put(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "config-features", "namespace": "knative-serving"},
            "data": {"tag-header-based-routing": "enabled"},
        }
    )
    await plane.wait_for(lambda: plane.serving.router.tag_header_routing, "the feature flag")

    assert disabled == "crashy-00002"
    assert await revision_for("old") == "crashy-00001"
    assert await revision_for("nonexistent") == "crashy-00002"


async def test_a_request_for_a_revision_still_being_built_is_held_not_refused(
    tmp_path: Path, fixture_functions: Path, builds_dir: Path, build_function: Any
) -> None:
    build_function("crashy")
    hooks = WatchedPrepare(held=True)
    running = await start_data_plane(tmp_path, fixture_functions, builds_dir, hooks=hooks)
    try:
        running.feed.put(revision("crashy"))
        running.feed.put(route("crashy", [("crashy-00001", 100, "")]))
        await running.wait_for(
            lambda: (
                ("default", "crashy-00001") in running.serving.router.building
                and running.serving.router.split_for(b"crashy.default.localhost") is not None
            ),
            "the revision to be building and routed",
        )
        reply = asyncio.ensure_future(running.client.get("/", headers=running.host("crashy")))
        await running.wait_for(
            lambda: ("default", "crashy-00001") in running.serving.router.wanted,
            "the gateway to hold the request for the build",
        )
        held = not reply.done()
        hooks.go.set()
        answered = await reply
    finally:
        await stop_data_plane(running)

    assert held
    assert answered.status_code == 200
    assert answered.json()["env"]["K_REVISION"] == "crashy-00001"
