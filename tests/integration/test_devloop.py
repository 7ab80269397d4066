"""The developer's loop on a real platform: create → deploy → invoke → save → new code serves."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulut.devloop.deploy import deploy, wait_for_rollout
from bulut.devloop.watch import WATCH_ANNOTATION, FunctionWatcher, Reload
from bulut.errors import InstanceError
from bulut.functions.scaffold import Template, create
from bulut.local import LocalPlatform
from tests.support.platform import local_settings, running_platform

pytestmark = pytest.mark.integration

NAMESPACE = "dev"


@pytest.fixture
async def platform(tmp_path: Path, repo_root: Path) -> AsyncIterator[LocalPlatform]:
    """A started platform on ephemeral ports, function builds cached across tests."""
    settings = local_settings(
        tmp_path,
        builds_dir=repo_root / ".bulut" / "test-builds",
        functions_dir=tmp_path / "functions",
    )
    async with running_platform(settings, check_images=False) as local:
        yield local


@pytest.fixture
def greeter(tmp_path: Path) -> Path:
    return create("greeter", template=Template.HTTP, path=tmp_path / "functions" / "greeter").root


async def call(client: httpx.AsyncClient, platform: LocalPlatform) -> httpx.Response:
    return await client.post(
        f"http://127.0.0.1:{platform.data_port}/",
        headers={"host": f"greeter.{NAMESPACE}.localhost"},
        content=b"hi",
    )


def edit(folder: Path, old: str, new: str) -> None:
    func = folder / "function" / "func.py"
    text = func.read_text()
    assert old in text
    func.write_text(text.replace(old, new))


async def test_a_created_function_deploys_and_answers(
    platform: LocalPlatform, greeter: Path
) -> None:
    lines: list[str] = []
    rollout = await deploy(platform.control, greeter, NAMESPACE, progress=lines.append)
    assert rollout.revision == "greeter-00001"
    assert rollout.url == f"http://greeter.{NAMESPACE}.localhost:{platform.data_port}"
    assert any("revision greeter-00001 created" in line for line in lines)
    async with httpx.AsyncClient() as client:
        answer = await call(client, platform)
    assert answer.json() == {"method": "POST", "path": "/", "size": 2}

    again = await deploy(platform.control, greeter, NAMESPACE)
    assert (again.revision, again.created) == ("greeter-00001", False)
    edit(greeter, '"size": len(body)', '"size": len(body), "v": 2')
    changed = await deploy(platform.control, greeter, NAMESPACE)
    assert (changed.revision, changed.created) == ("greeter-00002", True)


async def test_a_save_under_watch_serves_the_new_code_with_no_failed_request(
    platform: LocalPlatform, greeter: Path, builds_dir: Path
) -> None:
    await deploy(platform.control, greeter, NAMESPACE)
    reloads: asyncio.Queue[Reload] = asyncio.Queue()
    watcher = FunctionWatcher(
        greeter,
        "greeter",
        NAMESPACE,
        platform.control,
        builds_dir=platform.settings.builds,
        on_reload=reloads.put_nowait,
    )
    stop, ready = asyncio.Event(), asyncio.Event()
    watching = asyncio.create_task(watcher.run(stop, on_ready=ready.set))
    answers: list[httpx.Response | Exception] = []
    new_code_seen = asyncio.Event()

    async def stream() -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            while not stop.is_set():
                try:
                    answer = await call(client, platform)
                except httpx.HTTPError as error:
                    answers.append(error)
                    continue
                answers.append(answer)
                if answer.status_code == 200 and answer.json().get("v") == 2:
                    new_code_seen.set()

    streaming = [asyncio.create_task(stream()) for _ in range(4)]
    try:
        await asyncio.wait_for(ready.wait(), 30)
        while not answers:  # the stream is flowing before the save
            await asyncio.wait(streaming, timeout=0.01)
        edit(greeter, '"size": len(body)', '"size": len(body), "v": 2')
        reload = await asyncio.wait_for(reloads.get(), 120)
        assert reload.ok, reload.error
        assert reload.revision == "greeter-00002"
        await asyncio.wait_for(new_code_seen.wait(), 30)

        edit(greeter, '"v": 2', '"v": 3 +')
        broken = await asyncio.wait_for(reloads.get(), 60)
        assert broken.error is not None and "func.py" in broken.error
        service: dict[str, Any] = await platform.control.get("Service", NAMESPACE, "greeter")
        assert service["status"]["latestReadyRevisionName"] == "greeter-00002"
        assert '"error"' in service["metadata"]["annotations"][WATCH_ANNOTATION]
    finally:
        stop.set()
        await asyncio.gather(*streaming, watching, return_exceptions=True)
    failed = [a for a in answers if isinstance(a, Exception) or a.status_code != 200]
    assert failed == [], failed[:3]
    assert len(answers) > 10


async def test_an_import_error_keeps_the_old_revision_serving(
    platform: LocalPlatform, greeter: Path
) -> None:
    await deploy(platform.control, greeter, NAMESPACE)
    edit(greeter, "import json\n", "import json\nimport no_such_module\n")
    with pytest.raises(InstanceError, match="greeter-00001 keeps serving"):
        await deploy(platform.control, greeter, NAMESPACE, timeout=120)
    async with httpx.AsyncClient() as client:
        answer = await call(client, platform)
    assert answer.status_code == 200


async def test_up_watch_reloads_a_function_applied_from_yaml(
    platform: LocalPlatform, greeter: Path
) -> None:
    service = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": "greeter", "namespace": NAMESPACE},
        "spec": {"template": {
            "metadata": {"annotations": {"bulut.dev/function-path": str(greeter)}},
            "spec": {"containers": [{"image": "dev.local/greeter"}]},
        }},
    }  # fmt: skip
    await platform.apply_documents([service])
    await wait_for_rollout(
        platform.control, NAMESPACE, "greeter", before=None, started=time.monotonic()
    )
    reloads: asyncio.Queue[Reload] = asyncio.Queue()
    assert await platform.watch_functions(reloads.put_nowait) == [f"{NAMESPACE}/greeter"]

    edit(greeter, '"size": len(body)', '"size": len(body), "v": 2')
    reload = await asyncio.wait_for(reloads.get(), 120)
    assert (reload.ok, reload.revision) == (True, "greeter-00002")
    async with httpx.AsyncClient() as client:
        assert (await call(client, platform)).json()["v"] == 2

    pyproject = greeter / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n# a dependency change\n")
    rebuilt = await asyncio.wait_for(reloads.get(), 300)
    assert rebuilt.ok, rebuilt.error
    assert (rebuilt.rebuilt, rebuilt.revision) == (True, "greeter-00003")
