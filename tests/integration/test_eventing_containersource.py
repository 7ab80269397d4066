"""ContainerSource on the whole local platform: its program posts to its sink.

The image names a folder under the functions directory (the catalog's rule); the program
runs there as a process with ``K_SINK`` and ``K_CE_OVERRIDES`` set, and is started again
when it exits, as a Deployment's pod would be.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bulut.local import LocalPlatform
from tests.support.eventing import Subscriber, subscriber
from tests.support.platform import condition
from tests.support.programs import programs_platform
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

HEARTBEAT = textwrap.dedent(
    """
    import json, os, sys, urllib.request, uuid

    overrides = json.loads(os.environ.get("K_CE_OVERRIDES") or "{}").get("extensions", {})
    headers = {
        "content-type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": str(uuid.uuid4()),
        "ce-source": "/heartbeats",
        "ce-type": "dev.example.heartbeat",
        **{f"ce-{k}": v for k, v in overrides.items()},
    }
    body = json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd()}).encode()
    request = urllib.request.Request(os.environ["K_SINK"], body, headers, method="POST")
    urllib.request.urlopen(request, timeout=5).read()
    sys.exit(3)
    """
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def platform(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalPlatform]:
    tmp_path = tmp_path_factory.mktemp("containersource")
    async with programs_platform(tmp_path, {"heartbeats": HEARTBEAT}) as local:
        yield local


@pytest_asyncio.fixture(loop_scope="module")
async def sink() -> AsyncIterator[Subscriber]:
    async with subscriber() as recording:
        yield recording


def container_source(name: str, sink_url: str, **container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "ContainerSource",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "template": {
                "spec": {"containers": [{"image": "ghcr.io/acme/heartbeats:1.0", **container}]}
            },
            "sink": {"uri": sink_url},
            "ceOverrides": {"extensions": {"team": "platform"}},
        },
    }


async def test_the_program_posts_to_its_sink_with_the_overrides_and_is_restarted(
    platform: LocalPlatform, sink: Subscriber
) -> None:
    await platform.control.apply([container_source("beats", sink.url, args=["--every", "1"])])
    received = await sink.wait_for(2)  # it exits after each post: the second is a restart

    first = received[0]
    assert first.ce["type"] == "dev.example.heartbeat" and first.ce["team"] == "platform"
    assert json.loads(first.body)["argv"] == ["--every", "1"]
    assert Path(json.loads(first.body)["cwd"]).name == "heartbeats"
    source = await platform.control.get("ContainerSource", "default", "beats")
    assert source["status"]["sinkUri"] == sink.url
    assert platform.eventing.containers.restarts[("default", "beats")] >= 1


async def test_an_image_without_a_local_folder_is_reported_not_ready(
    platform: LocalPlatform, sink: Subscriber
) -> None:
    document = container_source("lost", sink.url)
    document["spec"]["template"]["spec"]["containers"][0]["image"] = "nowhere"
    await platform.control.apply([document])

    async def reported() -> dict[str, Any] | None:
        found = await platform.control.get("ContainerSource", "default", "lost")
        adapter = condition(found, "ReceiveAdapterReady")
        return adapter if adapter.get("status") == "False" else None

    adapter = await eventually(reported, "ReceiveAdapterReady False")
    assert adapter["reason"] == "ProgramNotFound" and "nowhere" in adapter["message"]
