"""`bulut func run`'s engine: one function behind the validating front, any Host."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulut.serving.local import serve_function
from bulut.serving.zygote import Workload

pytestmark = pytest.mark.integration


EVENT = {
    "ce-specversion": "1.0",
    "ce-source": "/tests",
    "ce-type": "test",
    "content-type": "application/json",
}


async def good_and_bad_event(
    workload: Workload, name: str, cwd: Path, *, extra: dict[str, str], wait: float
) -> tuple[httpx.Response, httpx.Response]:
    """Serve ``workload`` as `bulut func run` does; POST one event with ``ce-id``, one without."""
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    server = asyncio.ensure_future(
        serve_function(workload, name=name, port=0, cwd=cwd, started=ready.set_result, stop=stop)
    )
    url = await asyncio.wait_for(ready, wait)
    headers = {**EVENT, **extra}
    async with httpx.AsyncClient(base_url=url) as client:
        good = await client.post("/", headers={**headers, "ce-id": "7"}, content=b"{}")
        bad = await client.post("/", headers=headers, content=b"{}")
    stop.set()
    await server
    return good, bad


async def test_one_function_answers_events_and_rejects_malformed_ones(
    fixture_functions: Path, build_function: Any
) -> None:
    project, environment = build_function("echo")
    workload = Workload(python=environment.python, project=project.path, flavour="cloudevents")

    good, bad = await good_and_bad_event(workload, "echo", project.path, extra={}, wait=60)

    assert good.status_code == 200
    assert good.json()["id"] == "response-7"
    assert good.json()["data"]["revision"] == "echo-local"
    assert bad.status_code == 400
    assert bad.json()["field"] == "id"


async def test_a_functions_framework_cloudevent_function_runs_forked_and_validated(
    build_function: Any,
) -> None:
    project, environment = build_function("gff-echo")
    workload = Workload(
        python=environment.python,
        project=project.path,
        flavour="functions-framework",
        target="echo",
        signature_type="cloudevent",
        readiness_path="",
    )

    good, bad = await good_and_bad_event(
        workload, "gff-echo", project.path, extra={"authorization": "Bearer secret"}, wait=90
    )

    assert good.status_code == 200
    assert bad.status_code == 400
    assert bad.json()["field"] == "id"
    assert "secret" not in bad.text
