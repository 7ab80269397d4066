"""The data plane end to end: Revisions and Routes in a feed, real function processes
forked from zygotes, real HTTP through the router on an ephemeral loopback port."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.clock import RecordingSleep
from tests.support.eventing import binary_headers
from tests.support.serving import (
    SERVE_MODE,
    DataPlane,
    WatchedPrepare,
    revision,
    route,
    start_data_plane,
    stop_data_plane,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

EVENT_HEADERS = binary_headers("42", "test.echo", source="/tests")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def deploy(plane: DataPlane, rev: dict[str, Any], *, tag: str = "") -> str:
    name = str(rev["metadata"]["name"])
    service = rev["metadata"]["labels"]["serving.knative.dev/service"]
    plane.feed.put(rev)
    plane.feed.put(route(service, [(name, 100, tag)]))
    await plane.wait_built(name)
    return name


async def test_a_cold_event_is_held_and_answered_by_a_forked_instance(plane: DataPlane) -> None:
    name = await deploy(
        plane, revision("echo", annotations={"autoscaling.knative.dev/initial-scale": "0"})
    )
    await plane.wait_for(lambda: "zygote" in plane.feed.revision_report(name), "the zygote")
    assert plane.feed.revision_report(name)["readyInstances"] == 0

    reply = await plane.client.post(
        "/", headers={**plane.host("echo"), **EVENT_HEADERS}, content=b'{"n": 1}'
    )

    assert reply.status_code == 200, reply.text
    event = reply.json()
    assert event["type"] == "function.response"
    assert event["data"] == {"echo": {"n": 1}, "revision": name}

    def from_the_zygote() -> int:
        starts = plane.feed.revision_report(name).get("coldStarts", {})
        return int(starts.get("pool", 0)) + int(starts.get("fork", 0))  # pool once it refilled

    await plane.wait_for(lambda: from_the_zygote() == 1, "one cold start from the zygote")

    def zygote() -> dict[str, int]:
        return dict(plane.feed.revision_report(name)["zygote"])

    await plane.wait_for(lambda: zygote()["ussBytes"] > 0, "the zygote's memory, read")
    assert zygote()["pid"] > 0 and zygote()["pssBytes"] > 0


@pytest.mark.parametrize(
    ("drop", "extra", "body", "field"),
    [
        ("ce-id", {}, b"{}", "id"),
        ("", {"ce-time": "yesterday"}, b"{}", "time"),
        ("", {"ce-specversion": "0.1"}, b"{}", "specversion"),
        ("", {}, b"{not json", "data"),
    ],
)
async def test_a_malformed_event_gets_400_naming_the_attribute(
    plane: DataPlane, drop: str, extra: dict[str, str], body: bytes, field: str
) -> None:
    await deploy(plane, revision("echo"))
    headers = {**plane.host("echo"), **EVENT_HEADERS, **extra}
    headers.pop(drop, None)

    reply = await plane.client.post("/", headers=headers, content=body)

    assert reply.status_code == 400
    assert reply.headers["content-type"] == "application/problem+json"
    assert field in reply.json()["field"]


async def test_instances_get_knatives_environment_sink_and_volume(plane: DataPlane) -> None:
    plane.feed.put(
        {
            "apiVersion": "sources.knative.dev/v1",
            "kind": "SinkBinding",
            "metadata": {"name": "bind", "namespace": "default"},
            "spec": {
                "subject": {
                    "apiVersion": "serving.knative.dev/v1",
                    "kind": "Service",
                    "name": "crashy",
                },
                "ceOverrides": {"extensions": {"team": "a"}},
            },
            "status": {"sinkUri": "http://127.0.0.1:8080/default/default"},
        }
    )
    name = await deploy(plane, revision("crashy", env={"GREETING": "hi"}))

    reply = await plane.client.get("/", headers=plane.host("crashy"))

    assert reply.status_code == 200
    seen = reply.json()
    port = seen["env"]["PORT"]
    assert seen["env"] == {
        "PORT": port,
        "LISTEN_ADDRESS": f"127.0.0.1:{port}",
        "K_SERVICE": "crashy",
        "K_CONFIGURATION": "crashy",
        "K_REVISION": name,
        "K_SINK": "http://127.0.0.1:8080/default/default",
        "GREETING": "hi",
    }
    assert Path(seen["cwd"]) == plane.volumes_dir / "default" / "crashy"
    assert seen["headers"]["host"] == "crashy.default.localhost"
    assert seen["headers"]["x-forwarded-proto"] == "http"
    assert seen["headers"]["k-proxy-request"] == "activator"


async def test_a_crashed_instance_answers_502_and_is_replaced(plane: DataPlane) -> None:
    name = await deploy(plane, revision("crashy"))
    await plane.wait_ready(name)
    first = (await plane.client.get("/", headers=plane.host("crashy"))).json()["pid"]

    crashed = await plane.client.post("/crash", headers=plane.host("crashy"))

    assert crashed.status_code == 502
    again = await plane.client.get("/", headers=plane.host("crashy"))  # at once: no waiting
    assert again.status_code == 200
    assert again.json()["pid"] != first


async def test_a_crash_looping_revision_restarts_with_the_kubelets_back_off(
    plane: DataPlane,
) -> None:
    waits = RecordingSleep()  # records the back-off, waits none of it
    plane.serving.sleep = waits
    name = await deploy(plane, revision("crashy", env={"CRASH_ON_START": "3"}))

    await plane.wait_for(
        lambda: plane.feed.revision_report(name).get("restarts", 0) >= 4, "four restarts"
    )

    assert waits.waits[:3] == [10.0, 20.0, 40.0]  # the first restart was at once
    health = next(
        c for c in plane.feed.revision_report(name)["conditions"] if c["type"] == "ContainerHealthy"
    )
    assert (health["status"], health["reason"]) == ("False", "ExitCode3")
    assert "(CrashLoopBackOff: back-off " in health["message"]


def with_routing_state(rev: dict[str, Any], state: str) -> dict[str, Any]:
    """The Revision as the control plane labels it once its routes change."""
    labels = {**rev["metadata"]["labels"], "serving.knative.dev/routingState": state}
    return {**rev, "metadata": {**rev["metadata"], "labels": labels}}


async def test_a_revision_no_route_sends_traffic_to_releases_its_zygote(plane: DataPlane) -> None:
    zero = {"autoscaling.knative.dev/initial-scale": "0"}
    first = revision("echo", 1, annotations=zero)
    name = await deploy(plane, first)
    await plane.wait_for(lambda: "zygote" in plane.feed.revision_report(name), "the zygote")
    zygote = plane.feed.revision_report(name)["zygote"]["pid"]

    second = await deploy(plane, revision("echo", 2, annotations=zero))  # all traffic moves
    plane.feed.put(with_routing_state(first, "reserve"), "MODIFIED")

    await plane.wait_for(lambda: not pid_alive(zygote), "the unrouted revision's zygote to exit")
    assert "zygote" not in plane.feed.revision_report(name)

    plane.feed.put(with_routing_state(first, "active"), "MODIFIED")  # routed again
    plane.feed.put(route("echo", [(name, 100, "")]), "MODIFIED")
    reply = await plane.client.post(
        "/", headers={**plane.host("echo"), **EVENT_HEADERS}, content=b"1"
    )
    assert reply.status_code == 200 and reply.json()["data"]["revision"] == name
    assert plane.feed.revision_report(name)["zygote"]["pid"] not in (None, zygote)

    await plane.wait_for(lambda: "zygote" in plane.feed.revision_report(second), "its zygote")
    deleted = plane.feed.revision_report(second)["zygote"]["pid"]
    plane.feed.put(revision("echo", 2, annotations=zero), "DELETED")
    await plane.wait_for(lambda: not pid_alive(deleted), "the deleted revision's zygote to exit")


async def test_containerconcurrency_one_never_lets_two_requests_in(plane: DataPlane) -> None:
    await deploy(plane, revision("slow", container_concurrency=1))

    replies = await asyncio.gather(
        *(plane.client.get("/?ms=50", headers=plane.host("slow")) for _ in range(6))
    )

    assert [r.status_code for r in replies] == [200] * 6
    assert max(r.json()["peak"] for r in replies) == 1


async def test_beyond_ten_times_containerconcurrency_requests_get_503(plane: DataPlane) -> None:
    notes = {**SERVE_MODE, "autoscaling.knative.dev/max-scale": "1"}
    name = await deploy(plane, revision("slow", container_concurrency=1, annotations=notes))
    await plane.wait_ready(name)
    await plane.wait_for(
        lambda: plane.feed.revision_report(name).get("routing") == "Serve",
        "the activator to leave the path (target-burst-capacity 0)",
    )

    replies = await asyncio.gather(
        *(plane.client.get("/?ms=400", headers=plane.host("slow")) for _ in range(14))
    )

    codes = sorted(r.status_code for r in replies)
    assert codes == [200] * 11 + [503] * 3
    assert {r.text.strip() for r in replies if r.status_code == 503} == {
        "pending request queue full"
    }


async def test_a_request_longer_than_timeoutseconds_gets_504(plane: DataPlane) -> None:
    name = await deploy(plane, revision("slow", timeout_seconds=1, annotations=SERVE_MODE))
    await plane.wait_ready(name)

    reply = await plane.client.get("/?ms=3000", headers=plane.host("slow"))

    assert reply.status_code == 504
    assert reply.text.strip() == "request timeout"


async def test_a_request_held_past_timeoutseconds_gets_the_activators_504(
    plane: DataPlane,
) -> None:
    notes = {"autoscaling.knative.dev/initial-scale": "0"}
    await deploy(
        plane, revision("slow", timeout_seconds=1, env={"SLOW_START": "3"}, annotations=notes)
    )

    reply = await plane.client.get("/", headers=plane.host("slow"))

    assert reply.status_code == 504
    assert reply.text.strip() == "activator request timeout"


async def test_traffic_splits_by_percent_and_tags_get_their_own_host(plane: DataPlane) -> None:
    one, two = revision("crashy", 1), revision("crashy", 2)
    plane.feed.put(one)
    plane.feed.put(two)
    plane.feed.put(route("crashy", [("crashy-00001", 50, "old"), ("crashy-00002", 50, "")]))
    await plane.wait_built("crashy-00001")
    await plane.wait_built("crashy-00002")

    def revision_of(reply: Any) -> str:
        return str(reply.json()["env"]["K_REVISION"])

    tagged = [
        await plane.client.get("/", headers=plane.host("crashy", tag="old")) for _ in range(5)
    ]
    split = [await plane.client.get("/", headers=plane.host("crashy")) for _ in range(40)]

    assert {revision_of(r) for r in tagged} == {"crashy-00001"}
    assert {revision_of(r) for r in split} == {"crashy-00001", "crashy-00002"}


async def test_an_unknown_host_gets_404(plane: DataPlane) -> None:
    reply = await plane.client.get("/", headers={"host": "nothing.default.localhost"})

    assert reply.status_code == 404


async def test_without_a_zygote_instances_are_spawned_fresh_and_say_so(plane: DataPlane) -> None:
    notes = {"bulut.dev/zygote": "false"}
    name = await deploy(plane, revision("crashy", annotations=notes))

    reply = await plane.client.get("/", headers=plane.host("crashy"))

    assert reply.status_code == 200
    await plane.wait_for(
        lambda: (
            plane.feed.revision_report(name).get("coldStarts") == {"pool": 0, "fork": 0, "spawn": 1}
        ),
        "a spawn cold start reported",
    )


async def test_closing_stops_every_instance_and_zygote(
    tmp_path: Path, fixture_functions: Path, builds_dir: Path, build_function: Callable[[str], Any]
) -> None:
    build_function("crashy")
    running = await start_data_plane(tmp_path, fixture_functions, builds_dir)
    name = await deploy(running, revision("crashy"))
    await running.wait_ready(name)
    report = running.feed.revision_report(name)
    pids = [i["pid"] for i in report["instances"]] + [report["zygote"]["pid"]]
    assert all(pid_alive(pid) for pid in pids)

    await stop_data_plane(running)

    assert not any(pid_alive(pid) for pid in pids)


async def test_an_idle_revision_scales_to_zero_and_back_on_the_next_request(
    plane: DataPlane,
) -> None:
    plane.feed.put(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "config-autoscaler", "namespace": "knative-serving"},
            "data": {
                "allow-zero-initial-scale": "true",
                "stable-window": "6s",
                "scale-to-zero-grace-period": "1s",
            },
        }
    )
    name = await deploy(plane, revision("crashy"))
    await plane.wait_ready(name)
    first = (await plane.client.get("/", headers=plane.host("crashy"))).json()["pid"]

    await plane.wait_for(
        lambda: plane.feed.revision_report(name).get("actualScale") == 0,
        "the idle revision to scale to zero",
        timeout=30,
    )
    await plane.wait_for(lambda: not pid_alive(first), "the drained instance to exit")
    again = await plane.client.get("/", headers=plane.host("crashy"))

    assert again.status_code == 200
    assert again.json()["pid"] != first


def sink_binding(service: str, sink: str) -> dict[str, Any]:
    """A SinkBinding whose subject is ``service``, with its sink resolved."""
    return {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "SinkBinding",
        "metadata": {"name": f"bind-{service}", "namespace": "default"},
        "spec": {
            "subject": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": service}
        },
        "status": {"sinkUri": sink},
    }


async def test_after_a_restart_a_bound_revision_is_built_once_with_its_sink(
    tmp_path: Path, fixture_functions: Path, builds_dir: Path, build_function: Any
) -> None:
    """Stored before its SinkBinding, the Revision still gets one build, with K_SINK."""
    build_function("crashy")
    hooks = WatchedPrepare()
    rev = revision("crashy")
    stored = [rev, route("crashy", [(rev["metadata"]["name"], 100, "")])]
    stored.append(sink_binding("crashy", "http://127.0.0.1:9/default/default"))
    running = await start_data_plane(
        tmp_path, fixture_functions, builds_dir, hooks=hooks, existing=stored
    )
    try:
        first = await running.client.get("/", headers=running.host("crashy"))
        await running.settled()  # every feed event applied, every build it started ended
    finally:
        await stop_data_plane(running)

    assert first.status_code == 200, first.text
    assert first.json()["env"]["K_SINK"] == "http://127.0.0.1:9/default/default"
    assert [build.get("K_SINK") for build in hooks.builds] == ["http://127.0.0.1:9/default/default"]


async def test_a_request_held_while_its_revision_is_rebuilt_is_answered_not_failed(
    tmp_path: Path, fixture_functions: Path, builds_dir: Path, build_function: Any
) -> None:
    """The binding arrives after the Revision: the runtime is replaced (new env) while the
    request waits for its first instance; the old one drains like old pods in a rollout."""
    build_function("crashy")
    running = await start_data_plane(tmp_path, fixture_functions, builds_dir)
    try:
        rev = revision("crashy")
        running.feed.put(rev)
        running.feed.put(route("crashy", [(rev["metadata"]["name"], 100, "")]))
        running.feed.put(sink_binding("crashy", "http://127.0.0.1:9/default/default"))
        first = await running.client.get("/", headers=running.host("crashy"))
    finally:
        await stop_data_plane(running)

    assert first.status_code == 200, first.text


async def test_stopping_does_not_wait_for_a_replaced_revision_to_drain(
    tmp_path: Path, fixture_functions: Path, builds_dir: Path, build_function: Any
) -> None:
    """A replaced runtime holding a request for an instance still starting (30 s) drains,
    but serving's own stop ends that wait: the held request is answered 502 at once."""
    build_function("slow")
    running = await start_data_plane(tmp_path, fixture_functions, builds_dir)
    rev = revision("slow", env={"SLOW_START": "30"})
    name = rev["metadata"]["name"]
    running.feed.put(rev)
    running.feed.put(route("slow", [(name, 100, "")]))
    await running.wait_for(lambda: ("default", name) in running.serving.revisions, "the runtime")
    runtime = running.serving.revisions[("default", name)]
    request = asyncio.create_task(running.client.get("/", headers=running.host("slow")))
    await running.wait_for(lambda: runtime.activator.held == 1, "the held request")
    running.feed.put(sink_binding("slow", "http://127.0.0.1:9/default/default"))  # replaced
    await running.wait_for(
        lambda: running.serving.revisions[("default", name)] is not runtime, "the replacement"
    )
    started = time.monotonic()
    await running.serving.aclose()  # the client still waits: the drain has work left
    stopped = time.monotonic() - started
    answer = await asyncio.gather(request, return_exceptions=True)
    await stop_data_plane(running)
    assert stopped < 15, stopped  # not until the 30 s start, nor timeoutSeconds
    assert isinstance(answer[0], httpx.Response) and answer[0].status_code == 502


async def test_a_binding_added_while_a_revision_builds_reaches_its_instances(
    tmp_path: Path, fixture_functions: Path, builds_dir: Path, build_function: Any
) -> None:
    build_function("crashy")
    hooks = WatchedPrepare(held=True)
    running = await start_data_plane(tmp_path, fixture_functions, builds_dir, hooks=hooks)
    try:
        rev = revision("crashy")
        running.feed.put(rev)
        running.feed.put(route("crashy", [(rev["metadata"]["name"], 100, "")]))
        await asyncio.wait_for(hooks.entered.wait(), 30)
        running.feed.put(sink_binding("crashy", "http://127.0.0.1:9/default/late"))
        hooks.go.set()

        async def sink_seen() -> str | None:
            reply = await running.client.get("/", headers=running.host("crashy"))
            return reply.json()["env"].get("K_SINK")  # type: ignore[no-any-return]

        sink = await eventually(sink_seen, "K_SINK in the instances' env", timeout=30)
    finally:
        await stop_data_plane(running)

    assert sink == "http://127.0.0.1:9/default/late"


class SecretFiles:
    """A RevisionHooks that writes one file per revision and points an env var at it."""

    def __init__(self) -> None:
        self.released: list[str] = []

    async def prepare(
        self, revision: dict[str, Any], env: dict[str, str], workdir: Path
    ) -> dict[str, str]:
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "token").write_text("s3cret")
        return {**env, "GREETING": str(workdir / "token")}

    async def release(self, namespace: str, name: str) -> None:
        self.released.append(name)


async def test_revision_hooks_prepare_the_environment_and_release_it(
    tmp_path: Path, fixture_functions: Path, builds_dir: Path, build_function: Any
) -> None:
    build_function("crashy")
    hooks = SecretFiles()
    running = await start_data_plane(tmp_path, fixture_functions, builds_dir, hooks=hooks)
    try:
        rev = revision("crashy")
        name = await deploy(running, rev)
        seen = (await running.client.get("/", headers=running.host("crashy"))).json()
        running.feed.put(rev, "DELETED")
        await running.wait_for(lambda: hooks.released == [name], "the hook to release")
    finally:
        await stop_data_plane(running)

    assert Path(seen["env"]["GREETING"]).read_text() == "s3cret"


def zygotes_of_this_process() -> list[int]:
    """Pids of zygote processes this test process started (children, not other workers')."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid() and b"zygote" in command:
            found.append(int(entry.name))
    return found


async def test_a_request_before_the_route_has_a_ready_revision_is_held_not_refused(
    plane: DataPlane,
) -> None:
    """`bulut up` still starting: the Route exists but names no Ready revision yet. The
    request waits, as Knative's activator holds it, instead of 503 "revision None"."""
    rev = revision("crashy")
    name = rev["metadata"]["name"]
    plane.feed.put(rev)
    not_ready = route("crashy", [])
    not_ready["status"]["traffic"] = [{"percent": 100, "latestRevision": True}]
    plane.feed.put(not_ready)
    router, key = plane.serving.router, ("default", name)
    await plane.wait_for(
        lambda: (
            router.split_for(b"crashy.default.localhost") is not None
            and (key in router.building or key in plane.serving.revisions)
        ),
        "the route and its starting revision",
    )

    request = asyncio.create_task(plane.client.get("/", headers=plane.host("crashy")))
    await plane.wait_ready(name)
    held = not request.done()
    plane.feed.put(route("crashy", [(name, 100, "")]))  # the control plane saw it Ready
    reply = await request

    assert held, reply.text
    assert reply.status_code == 200, reply.text


async def test_a_revision_replaced_while_its_zygote_imports_keeps_one_zygote(
    plane: DataPlane,
) -> None:
    """The SinkBinding arrives while the first zygote imports: the replaced runtime's
    zygote is stopped, not left running beside the new one until shutdown."""
    rev = revision("slow", env={"SLOW_IMPORT": "3"})
    name = rev["metadata"]["name"]
    plane.feed.put(rev)
    plane.feed.put(route("slow", [(name, 100, "")]))
    await plane.wait_for(lambda: len(zygotes_of_this_process()) == 1, "the first zygote")
    first = zygotes_of_this_process()

    plane.feed.put(sink_binding("slow", "http://127.0.0.1:9/default/default"))
    await plane.wait_for(
        lambda: (plane.feed.revision_report(name).get("zygote") or {}).get("pid") is not None,
        "the replacement's zygote to prime",
    )
    primed = plane.feed.revision_report(name)["zygote"]["pid"]

    await plane.wait_for(lambda: zygotes_of_this_process() == [primed], "one zygote only")
    assert primed not in first
