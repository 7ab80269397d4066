"""A revision at zero and its first request: one instance is launched at once, before the
autoscaler's tick (a parked child taken in the request's own call), and only one however
many requests wait."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from bulut.errors import InstanceError
from bulut.serving.autoscaler import DeciderSpec
from bulut.serving.revisions import RevisionRuntime, RevisionSpec
from bulut.serving.zygote import Child, Workload
from tests.support.waiting import eventually


class Ticket:
    via_activator = False


def at_zero(tmp_path: Path) -> RevisionRuntime:
    workload = Workload(python=Path("python"), project=tmp_path)
    spec = RevisionSpec("default", "fn-00001", workload, tmp_path, service="fn")
    # Never started: its autoscaler does not tick, so any launch comes from the request.
    return RevisionRuntime(spec, DeciderSpec(initial_scale=0, min_scale=0), tick_interval=3600)


async def test_a_request_at_zero_launches_one_instance_without_waiting_for_a_tick(
    tmp_path: Path,
) -> None:
    runtime = at_zero(tmp_path)
    launches: list[int] = []
    never = asyncio.Event()

    async def launch() -> tuple[Child, str]:
        launches.append(len(launches))
        await never.wait()  # still starting while the other requests arrive
        raise InstanceError("not reached")

    runtime.launcher.launch = launch  # type: ignore[method-assign]
    waiting = [asyncio.ensure_future(runtime.acquire(Ticket())) for _ in range(3)]

    await eventually(lambda: launches, "a launch")
    await asyncio.sleep(0)  # the other requests are held meanwhile
    assert launches == [0]
    assert runtime.activator.held == 3
    await runtime.aclose()
    await asyncio.gather(*waiting, return_exceptions=True)


async def test_a_request_for_an_unrouted_revision_launches_nothing_itself(
    tmp_path: Path,
) -> None:
    runtime = at_zero(tmp_path)
    runtime.autoscaler.update_spec(DeciderSpec(initial_scale=0, min_scale=0, reachable=False))
    launches: list[int] = []

    async def launch() -> tuple[Child, str]:
        launches.append(1)
        raise InstanceError("not reached")

    runtime.launcher.launch = launch  # type: ignore[method-assign]
    waiting = asyncio.ensure_future(runtime.acquire(Ticket()))

    await eventually(lambda: runtime.activator.held, "the request held")
    assert launches == []
    await runtime.aclose()
    await asyncio.gather(waiting, return_exceptions=True)


async def test_a_request_at_zero_takes_the_parked_child_in_its_own_call(tmp_path: Path) -> None:
    runtime = at_zero(tmp_path)
    loop = asyncio.get_running_loop()
    listener = socket.create_server(("127.0.0.1", 0))  # the child's port (connects queue)
    child = Child(
        4242, listener.getsockname()[1], loop.create_future(), listening=loop.create_future()
    )
    taken: list[Child] = []

    def take() -> tuple[Child, str]:
        taken.append(child)
        return child, "pool"

    async def launch() -> tuple[Child, str]:
        raise AssertionError("a parked child was there: nothing to launch")

    runtime.launcher.can_take = lambda: True  # type: ignore[method-assign]
    runtime.launcher.take = take  # type: ignore[method-assign]
    runtime.launcher.launch = launch  # type: ignore[method-assign]
    request = asyncio.ensure_future(runtime.acquire(Ticket()))

    await asyncio.sleep(0)  # one step: the request is held, its instance already taken
    assert taken == [child] and runtime.activator.held == 1
    assert [(i.pid, i.cold_start) for i in runtime.instances] == [(4242, "pool")]
    assert child.listening is not None
    child.listening.set_result(True)  # the child says its own readiness probe passed

    instance = await asyncio.wait_for(request, 5)
    assert instance.pid == 4242 and runtime.ready == [instance]
    child.exited.set_result(0)
    await runtime.aclose()
    listener.close()
