"""A revision at zero and its first request: one instance is launched at once, before the
autoscaler's tick (a parked child taken in the request's own call), and only one however
many requests wait. The taken child is routed to on its word (ADR 0027), and the autoscaler
ticks once that request is answered, not in the middle of its cold start."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bulut.errors import InstanceError
from bulut.serving import revisions
from bulut.serving.autoscaler import DeciderSpec, ScaleDecision
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


class Parked:
    """A real process standing for a parked child (``sleep``), on a port whose connections
    queue (``listener``), that the runtime takes at zero; its word is ours to say."""

    def __init__(self, process: asyncio.subprocess.Process, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        self.process, self.listener = process, listener
        exited: asyncio.Future[int] = loop.create_future()
        self.child = Child(
            process.pid, listener.getsockname()[1], exited, listening=loop.create_future()
        )
        self.watcher = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        code = await self.process.wait()
        if not self.child.exited.done():
            self.child.exited.set_result(code)

    def say(self, ready: bool) -> None:
        assert self.child.listening is not None
        self.child.listening.set_result(ready)

    def accepted(self) -> list[socket.socket]:
        self.listener.setblocking(False)
        try:
            return [self.listener.accept()[0]]
        except BlockingIOError:
            return []

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.watcher
        self.listener.close()


async def parked_child(runtime: RevisionRuntime, listener: socket.socket) -> Parked:
    """``runtime``'s launcher finds ``listener``'s parked child (and nothing to launch)."""
    process = await asyncio.create_subprocess_exec("sleep", "30")
    parked = Parked(process, listener)
    taken: list[Child] = []

    def take() -> tuple[Child, str] | None:
        if taken:
            return None
        taken.append(parked.child)
        return parked.child, "pool"

    async def launch() -> tuple[Child, str]:
        await asyncio.Event().wait()  # a replacement never comes here
        raise AssertionError("not reached")

    runtime.launcher.can_take = lambda: not taken  # type: ignore[method-assign]
    runtime.launcher.take = take  # type: ignore[method-assign]
    runtime.launcher.launch = launch  # type: ignore[method-assign]
    return parked


async def test_a_taken_child_is_routed_to_on_its_word_and_no_probe_is_sent(
    tmp_path: Path,
) -> None:
    runtime = at_zero(tmp_path)
    parked = await parked_child(runtime, socket.create_server(("127.0.0.1", 0)))
    request = asyncio.ensure_future(runtime.acquire(Ticket()))

    connections = await eventually(parked.accepted, "the first request's connection, ahead")
    assert runtime.activator.held == 1 and runtime.ready == []
    parked.say(True)  # its own readiness probe passed

    instance = await asyncio.wait_for(request, 5)
    assert runtime.ready == [instance]
    connections[0].setblocking(False)
    with pytest.raises(BlockingIOError):  # nothing was sent on it: no probe from here
        connections[0].recv(1)
    connections[0].close()
    await runtime.aclose()
    await parked.close()


async def test_a_taken_child_whose_own_probe_failed_is_probed_from_here(
    tmp_path: Path, origin: tuple[int, list[bytes]]
) -> None:
    runtime = at_zero(tmp_path)
    listener = socket.socket()  # the instance's port is the origin's
    listener.bind(("127.0.0.1", 0))
    parked = await parked_child(runtime, listener)
    parked.child.port, probes = origin
    request = asyncio.ensure_future(runtime.acquire(Ticket()))
    await eventually(lambda: runtime.activator.held, "the request held")

    parked.say(False)  # it listens; its readiness answered 5xx

    instance = await asyncio.wait_for(request, 5)
    assert runtime.ready == [instance]
    assert [probe.split(b"\r\n")[0] for probe in probes] == [b"GET /health/readiness HTTP/1.1"] * 2
    await runtime.aclose()
    await parked.close()


async def test_a_taken_child_that_dies_before_its_word_never_gets_the_request(
    tmp_path: Path,
) -> None:
    runtime = at_zero(tmp_path)
    parked = await parked_child(runtime, socket.create_server(("127.0.0.1", 0)))
    request = asyncio.ensure_future(runtime.acquire(Ticket()))
    await eventually(lambda: runtime.activator.held, "the request held")

    parked.process.kill()  # the zygote reports its exit and cancels its word
    await eventually(lambda: parked.child.exited.done(), "its exit")
    assert parked.child.listening is not None
    parked.child.listening.cancel()

    await eventually(lambda: not runtime.instances, "the instance gone")
    assert runtime.ready == [] and not request.done()  # held for the replacement
    assert runtime.facts.last_exit_code == -9
    await runtime.aclose()
    await asyncio.gather(request, return_exceptions=True)
    await parked.close()


async def test_a_taken_child_silent_past_the_progress_deadline_is_stopped(
    tmp_path: Path,
) -> None:
    workload = Workload(python=Path("python"), project=tmp_path)
    spec = RevisionSpec("default", "fn-00001", workload, tmp_path, service="fn")
    decider = DeciderSpec(initial_scale=0, min_scale=0, progress_deadline=0.05)
    runtime = RevisionRuntime(spec, decider, tick_interval=3600)
    parked = await parked_child(runtime, socket.create_server(("127.0.0.1", 0)))
    request = asyncio.ensure_future(runtime.acquire(Ticket()))

    await eventually(lambda: parked.child.exited.done(), "the silent instance stopped")
    assert runtime.facts.deadline_exceeded
    assert parked.child.exited.result() == -15  # SIGTERM, as for a failed probe
    await runtime.aclose()
    await asyncio.gather(request, return_exceptions=True)
    await parked.close()


@pytest.fixture
async def ticking(tmp_path: Path) -> AsyncIterator[tuple[RevisionRuntime, list[int], Parked]]:
    """A revision at zero with its autoscaler running, its ticks counted (each as the number
    of requests held when it began; the first is its own at start), and a parked child."""
    runtime = at_zero(tmp_path)
    ticks: list[int] = []
    tick = runtime.autoscaler.tick

    async def counted() -> ScaleDecision:
        ticks.append(runtime.activator.held)
        return await tick()

    runtime.autoscaler.tick = counted  # type: ignore[method-assign]
    autoscaler = asyncio.ensure_future(runtime.autoscaler.run())
    await eventually(lambda: ticks, "the autoscaler's first tick")
    parked = await parked_child(runtime, socket.create_server(("127.0.0.1", 0)))
    yield runtime, ticks, parked
    autoscaler.cancel()
    await runtime.aclose()
    await parked.close()


def poke_held_back(runtime: RevisionRuntime) -> bool:
    return runtime.poke_pending


async def test_the_cold_starts_own_request_pokes_the_autoscaler_once_it_is_answered(
    ticking: tuple[RevisionRuntime, list[int], Parked], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(revisions, "POKE_WITHIN", 60.0)  # however slow this machine is
    runtime, ticks, parked = ticking
    request = asyncio.ensure_future(runtime.acquire(Ticket()))
    await eventually(lambda: runtime.activator.held, "the request held")
    await asyncio.sleep(0.01)
    assert ticks == [0] and poke_held_back(runtime)  # no tick in the middle of its cold start

    parked.say(True)
    instance = await asyncio.wait_for(request, 5)
    runtime.release(instance)  # answered

    await eventually(lambda: len(ticks) == 2, "the tick after the answer")
    assert not poke_held_back(runtime)


async def test_an_unanswered_cold_start_pokes_the_autoscaler_within_a_bound(
    ticking: tuple[RevisionRuntime, list[int], Parked], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(revisions, "POKE_WITHIN", 0.05)
    runtime, ticks, _ = ticking
    request = asyncio.ensure_future(runtime.acquire(Ticket()))  # its child never says a word

    await eventually(lambda: len(ticks) == 2, "the tick POKE_WITHIN after the cold start")
    assert ticks[1] == 1 and not poke_held_back(runtime)
    request.cancel()
    await asyncio.gather(request, return_exceptions=True)


async def test_a_second_request_held_at_zero_pokes_the_autoscaler_at_once(
    ticking: tuple[RevisionRuntime, list[int], Parked],
) -> None:
    runtime, ticks, _ = ticking
    first = asyncio.ensure_future(runtime.acquire(Ticket()))
    await eventually(lambda: runtime.activator.held, "the first request held")

    second = asyncio.ensure_future(runtime.acquire(Ticket()))

    await eventually(lambda: len(ticks) == 2, "a tick for the burst")
    assert ticks[1] == 2 and not poke_held_back(runtime)
    for request in (first, second):
        request.cancel()
    await asyncio.gather(first, second, return_exceptions=True)


async def test_a_cold_starts_changes_are_reported_once_its_request_is_answered(
    tmp_path: Path,
) -> None:
    workload = Workload(python=Path("python"), project=tmp_path)
    spec = RevisionSpec("default", "fn-00001", workload, tmp_path, service="fn")
    reports: list[tuple[int, int]] = []  # (instances, ready) at each change the runtime reports

    def changed() -> None:
        reports.append((len(runtime.instances), len(runtime.ready)))

    runtime = RevisionRuntime(
        spec, DeciderSpec(initial_scale=0, min_scale=0), tick_interval=3600, on_change=changed
    )
    parked = await parked_child(runtime, socket.create_server(("127.0.0.1", 0)))
    request = asyncio.ensure_future(runtime.acquire(Ticket()))
    await eventually(lambda: runtime.activator.held, "the request held")
    parked.say(True)
    instance = await asyncio.wait_for(request, 5)
    assert reports == []  # taken and ready, in the middle of its cold start: nothing yet

    runtime.release(instance)  # answered

    assert await eventually(lambda: reports, "the report after the answer") == [(1, 1)]
    await runtime.aclose()
    await parked.close()
