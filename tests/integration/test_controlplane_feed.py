"""The ResourceFeed side: watch (in-process and over HTTP) and runtime reports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulut.controlplane import ControlPlane
from bulut.errors import NotFoundError
from bulut.manifests.feed import ResourceEvent, ResourceFeed
from bulut.settings import Settings
from tests.support.controlplane import serve
from tests.support.network import free_port
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

READY = {
    "desiredScale": 1,
    "actualScale": 1,
    "readyInstances": 1,
    "conditions": [
        {"type": "ResourcesAvailable", "status": "True"},
        {"type": "ContainerHealthy", "status": "True"},
    ],
}
SERVICE = {
    "apiVersion": "serving.knative.dev/v1",
    "kind": "Service",
    "metadata": {"name": "orders"},
    "spec": {"template": {"spec": {"containers": [{"image": "orders"}]}}},
}


@pytest.fixture
async def plane(database_url: str, tmp_path: Path) -> AsyncIterator[ControlPlane]:
    control = ControlPlane(
        Settings(database_url=database_url, state_dir=tmp_path), check_images=False
    )
    await control.start()
    yield control
    await control.aclose()


async def collect(feed: ResourceFeed, kinds: frozenset[str], count: int) -> list[ResourceEvent]:
    events: list[ResourceEvent] = []
    async for event in feed.watch(kinds):
        events.append(event)
        if len(events) == count:
            break
    return events


async def subscribed(plane: ControlPlane) -> None:
    """Wait until a watch subscribed and listed what exists (it holds the plane's lock while
    it does): every change from now on reaches it."""
    await eventually(
        lambda: plane._hub._subscriptions and not plane._lock.locked(), "the watch to subscribe"
    )


def summary(events: list[ResourceEvent]) -> list[tuple[str, str, str]]:
    return [(e["type"], e["object"]["kind"], e["object"]["metadata"]["name"]) for e in events]


async def test_the_control_plane_is_a_resource_feed(plane: ControlPlane) -> None:
    feed: ResourceFeed = plane
    assert feed is plane


async def test_watch_starts_with_existing_objects_as_added(plane: ControlPlane) -> None:
    await plane.apply([SERVICE])
    events = await asyncio.wait_for(collect(plane, frozenset({"Revision", "Route"}), 2), 5)
    assert summary(events) == [("ADDED", "Revision", "orders-00001"), ("ADDED", "Route", "orders")]


async def test_watch_lists_the_sinkbinding_before_the_revision_it_shapes(
    plane: ControlPlane,
) -> None:
    binding = {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "SinkBinding",
        "metadata": {"name": "bind-orders"},
        "spec": {
            "subject": {
                "apiVersion": "serving.knative.dev/v1",
                "kind": "Service",
                "name": "orders",
            },
            "sink": {"uri": "http://example.com/"},
        },
    }
    await plane.apply([SERVICE, binding])
    kinds = frozenset({"Revision", "SinkBinding"})
    events = await asyncio.wait_for(collect(plane, kinds, 2), 5)
    assert summary(events) == [
        ("ADDED", "SinkBinding", "bind-orders"),
        ("ADDED", "Revision", "orders-00001"),
    ]


async def test_a_report_emits_modified_for_every_object_that_changed(plane: ControlPlane) -> None:
    await plane.apply([SERVICE])
    kinds = frozenset({"Service", "Configuration", "Revision", "Route"})
    watching = asyncio.create_task(collect(plane, kinds, 8))
    await subscribed(plane)
    await plane.report("Revision", "default", "orders-00001", READY)
    events = await asyncio.wait_for(watching, 5)
    modified = sorted(s for s in summary(events) if s[0] == "MODIFIED")
    assert modified == [
        ("MODIFIED", "Configuration", "orders"),
        ("MODIFIED", "Revision", "orders-00001"),
        ("MODIFIED", "Route", "orders"),
        ("MODIFIED", "Service", "orders"),
    ]
    route = next(
        e["object"] for e in events if e["type"] == "MODIFIED" and e["object"]["kind"] == "Route"
    )
    assert route["status"]["traffic"] == [
        {"revisionName": "orders-00001", "latestRevision": True, "percent": 100}
    ]
    revision = await plane.get("Revision", "default", "orders-00001")
    assert revision["status"]["bulut"] == {"readyInstances": 1}


async def test_a_report_of_the_runtimes_picture_alone_modifies_the_revision_alone(
    plane: ControlPlane,
) -> None:
    await plane.apply([SERVICE])
    await plane.report("Revision", "default", "orders-00001", READY)
    route = await plane.get("Route", "default", "orders")
    kinds = frozenset({"Service", "Configuration", "Revision", "Route"})
    watching = asyncio.create_task(collect(plane, kinds, 5))
    await subscribed(plane)
    picture = {**READY, "coldStarts": {"pool": 2}, "instances": [{"pid": 7}]}
    await plane.report("Revision", "default", "orders-00001", picture)
    events = await asyncio.wait_for(watching, 5)
    assert [s for s in summary(events) if s[0] != "ADDED"] == [
        ("MODIFIED", "Revision", "orders-00001")
    ]
    revision = await plane.get("Revision", "default", "orders-00001")
    assert revision["status"]["bulut"]["coldStarts"] == {"pool": 2}
    assert (
        revision["metadata"]["resourceVersion"]
        == events[-1]["object"]["metadata"]["resourceVersion"]
    )
    assert await plane.get("Route", "default", "orders") == route


async def test_a_repeated_report_emits_nothing_new(plane: ControlPlane) -> None:
    await plane.apply([SERVICE])
    await plane.report("Revision", "default", "orders-00001", READY)
    before = await plane.get("Revision", "default", "orders-00001")
    await plane.report("Revision", "default", "orders-00001", READY)
    after = await plane.get("Revision", "default", "orders-00001")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


async def test_deletion_is_watched_as_deleted(plane: ControlPlane) -> None:
    await plane.apply([SERVICE])
    watching = asyncio.create_task(collect(plane, frozenset({"Revision"}), 2))
    await subscribed(plane)
    await plane.delete("Service", "default", "orders")
    events = await asyncio.wait_for(watching, 5)
    assert summary(events) == [
        ("ADDED", "Revision", "orders-00001"),
        ("DELETED", "Revision", "orders-00001"),
    ]


async def test_reporting_on_an_unknown_revision_is_not_found(plane: ControlPlane) -> None:
    with pytest.raises(NotFoundError):
        await plane.report("Revision", "default", "ghost-00001", READY)


async def test_closing_the_control_plane_ends_every_watch(plane: ControlPlane) -> None:
    watching = asyncio.create_task(collect(plane, frozenset({"Revision"}), 99))
    await subscribed(plane)
    await plane.aclose()
    assert await asyncio.wait_for(watching, 5) == []


async def test_watch_and_report_work_over_http(tmp_path: Path) -> None:
    settings = Settings(
        state_dir=tmp_path, control_port=free_port(), data_port=free_port(), functions_dir=tmp_path
    )
    with serve(settings) as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            await client.post("/apis/bulut.dev/v1/apply", json={"documents": [SERVICE]})
            lines: list[dict[str, Any]] = []
            path = "/apis/serving.knative.dev/v1/namespaces/default/revisions?watch=true"
            async with client.stream("GET", path) as stream:
                async for line in stream.aiter_lines():
                    lines.append(json.loads(line))
                    if len(lines) == 1:
                        report = {"runtime": READY}
                        answer = await client.post(
                            "/apis/bulut.dev/v1/namespaces/default/revisions/orders-00001/report",
                            json=report,
                        )
                        assert answer.status_code == 200
                    if len(lines) == 2:
                        break
    assert [line["type"] for line in lines] == ["ADDED", "MODIFIED"]
    assert lines[1]["object"]["status"]["actualReplicas"] == 1
