"""JobSink on the whole local platform: one run of the job per event, with the event
mounted; a failing job is retried up to its backoffLimit, then Failed."""

from __future__ import annotations

import json
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bulut.local import LocalPlatform
from tests.support.platform import condition
from tests.support.programs import programs_platform
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

JOB = textwrap.dedent(
    """
    import os, pathlib, sys, tempfile

    event = pathlib.Path(os.environ["K_EVENT_PATH"], "event").read_text()
    out = pathlib.Path(os.environ["OUT"])
    out.mkdir(parents=True, exist_ok=True)
    # one file per run, named so that the runs of two events at once never share one
    fd, _ = tempfile.mkstemp(prefix="run-", suffix=".json", dir=out)
    os.write(fd, event.encode())
    os.close(fd)
    sys.exit(int(os.environ.get("EXIT", "0")))
    """
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def platform(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalPlatform]:
    async with programs_platform(tmp_path_factory.mktemp("jobsink"), {"mailer": JOB}) as local:
        yield local


def jobsink(name: str, out: Path, *, exit_code: int = 0, backoff_limit: int = 6) -> dict[str, Any]:
    env = [{"name": "OUT", "value": str(out)}, {"name": "EXIT", "value": str(exit_code)}]
    container = {"name": "mailer", "image": "ghcr.io/acme/mailer:1", "env": env}
    return {
        "apiVersion": "sinks.knative.dev/v1alpha1",
        "kind": "JobSink",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "job": {
                "spec": {
                    "backoffLimit": backoff_limit,
                    "template": {"spec": {"restartPolicy": "Never", "containers": [container]}},
                }
            }
        },
    }


def event(event_id: str) -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-source": "/orders",
        "ce-type": "order.placed",
        "content-type": "application/json",
    }


async def address(platform: LocalPlatform, name: str) -> str:
    async def ready() -> str | None:
        found = await platform.control.get("JobSink", "default", name)
        ok = condition(found, "Ready").get("status") == "True"
        return str(found["status"]["address"]["url"]) if ok else None

    return await eventually(ready, f"JobSink {name} Ready with an address")


async def batch_jobs(platform: LocalPlatform, jobsink_name: str) -> list[dict[str, Any]]:
    """The JobSink's batch/v1 Jobs as kubectl lists them (the Kubernetes API, a label selector)."""
    url = f"{platform.settings.control_url}/apis/batch/v1/namespaces/default/jobs"
    selector = {"labelSelector": f"sinks.knative.dev/job-sink-name={jobsink_name}"}
    async with httpx.AsyncClient() as http:
        response = await http.get(url, params=selector)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def runs(platform: LocalPlatform, name: str, state: str) -> list[dict[str, Any]] | None:
    found = await platform.control.get("JobSink", "default", name)
    jobs = found.get("status", {}).get("jobs") or []
    return jobs if jobs and all(j["status"] == state for j in jobs) else None


async def test_each_event_runs_the_job_once_with_the_event_mounted(
    platform: LocalPlatform, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    await platform.control.apply([jobsink("mail", out)])
    url = await address(platform, "mail")
    assert url == f"http://job-sink.knative-eventing.localhost:{platform.data_port}/default/mail"
    data = f"http://127.0.0.1:{platform.data_port}"
    host = {"host": f"job-sink.knative-eventing.localhost:{platform.data_port}"}
    async with httpx.AsyncClient() as http:
        first = await http.post(
            f"{data}/default/mail", headers={**event("o-1"), **host}, content=b'{"order": 1}'
        )
        again = await http.post(
            f"{data}/default/mail", headers={**event("o-1"), **host}, content=b'{"order": 1}'
        )
        second = await http.post(
            f"{data}/default/mail", headers={**event("o-2"), **host}, content=b'{"order": 2}'
        )
        jobs = await eventually(lambda: runs(platform, "mail", "Complete"), "two Complete runs")
        polled = await http.get(f"{data}{first.headers['location']}", headers=host)
        unknown = await http.post(
            f"{data}/default/nope", headers={**event("x"), **host}, content=b"{}"
        )

    assert (first.status_code, again.status_code, second.status_code) == (202, 202, 202)
    assert (
        first.headers["location"]
        == again.headers["location"]
        == ("/namespaces/default/name/mail/sources/%2Forders/ids/o-1")
    )
    assert (polled.status_code, polled.headers["reason"]) == (200, "Complete")
    assert unknown.status_code == 400
    assert len(jobs) == 2 and {j["id"] for j in jobs} == {"o-1", "o-2"}
    mounted = sorted(json.loads(p.read_text())["id"] for p in out.iterdir())
    assert mounted == ["o-1", "o-2"]  # one run per event: the re-sent o-1 did not run again
    for run in out.iterdir():
        mounted_event = json.loads(run.read_text())
        assert mounted_event["type"] == "order.placed" and mounted_event["source"] == "/orders"

    jobs_api = await batch_jobs(platform, "mail")
    assert sorted(j["metadata"]["name"] for j in jobs_api) == sorted(j["name"] for j in jobs)
    job = jobs_api[0]
    assert job["metadata"]["labels"]["sinks.knative.dev/job-sink-name"] == "mail"
    assert job["metadata"]["ownerReferences"][0]["kind"] == "JobSink"
    assert [c["type"] for c in job["status"]["conditions"]] == ["Complete"]
    assert job["status"]["succeeded"] == 1
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "K_EVENT_PATH", "value": "/etc/jobsink-event"} in container["env"]


async def test_a_failing_job_is_retried_up_to_its_backoff_limit_then_failed(
    platform: LocalPlatform, tmp_path: Path
) -> None:
    out = tmp_path / "failing"
    await platform.control.apply([jobsink("flaky", out, exit_code=1, backoff_limit=2)])
    await address(platform, "flaky")
    data = f"http://127.0.0.1:{platform.data_port}"
    host = {"host": "job-sink.knative-eventing.localhost"}
    async with httpx.AsyncClient() as http:
        accepted = await http.post(
            f"{data}/default/flaky", headers={**event("f-1"), **host}, content=b"{}"
        )
        jobs = await eventually(lambda: runs(platform, "flaky", "Failed"), "a Failed run")
        polled = await http.get(f"{data}{accepted.headers['location']}", headers=host)
    assert jobs[0]["failed"] == 3 and jobs[0]["reason"] == "BackoffLimitExceeded"
    assert len(list(out.iterdir())) == 3  # the first try and backoffLimit (2) retries
    assert (polled.status_code, polled.headers["reason"]) == (400, "Failed")

    (job,) = await batch_jobs(platform, "flaky")
    assert (job["status"]["failed"], job["status"]["conditions"][0]["reason"]) == (
        3,
        "BackoffLimitExceeded",
    )
