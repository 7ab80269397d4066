"""The zygote's pool of parked children, with real processes: taken, replaced, never
serving before it is taken, and gone with the zygote."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bulut.errors import InstanceError
from bulut.serving import launcher as launcher_module
from bulut.serving.instances import Instance
from bulut.serving.launcher import Launcher
from bulut.serving.zygote import FORK, POOL, SPAWN, Child, Workload, Zygote, spawn
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

READINESS = b"GET /health/readiness HTTP/1.1\r\nhost: x\r\n\r\n"


@pytest.fixture
def workload(build_function: Callable[[str], Any]) -> Workload:
    project, environment = build_function("echo")
    return Workload.of(project, environment, readiness_path="/health/readiness")


@pytest.fixture
async def zygote(workload: Workload, tmp_path: Path) -> AsyncIterator[Zygote]:
    running = Zygote(workload, {}, tmp_path, pool_size=1)
    await running.start(timeout=60)
    yield running
    await running.close()


@contextlib.asynccontextmanager
async def zygote_of(
    build_function: Callable[[str], Any], name: str, env: dict[str, str], tmp_path: Path
) -> AsyncIterator[Zygote]:
    """A started zygote (pool of one) of fixture function ``name`` with ``env``."""
    project, environment = build_function(name)
    workload = Workload.of(project, environment, readiness_path="/health/readiness")
    zygote = Zygote(workload, env, tmp_path, pool_size=1)
    await zygote.start(timeout=60)
    try:
        yield zygote
    finally:
        await zygote.close()


def gone(pid: int) -> bool:
    """No such process, or only its zombie is left."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):  # reaped before or while we read
        return True


def waits_for_its_go_line(pid: int) -> bool:
    """The child's event loop is idle in epoll: it rehearsed and waits in the server for go.

    Nothing else blocks a parked child there (a function's ``start()`` run too early would
    hold it in a sleep or in its own work first)."""
    with open(f"/proc/{pid}/wchan") as wchan:
        return wchan.read() in ("do_epoll_wait", "ep_poll")


async def parked_pid(zygote: Zygote) -> int:
    await eventually(lambda: len(zygote.parked) == 1, "a parked child")
    return next(iter(zygote.parked))


async def readiness(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(READINESS)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    writer.close()
    return head


def listening_ports() -> set[int]:
    """Loopback TCP ports in LISTEN state (from /proc/net/tcp)."""
    ports = set()
    with open("/proc/net/tcp") as table:
        for row in table.read().splitlines()[1:]:
            fields = row.split()
            if fields[3] == "0A":
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


async def stop(child: Child) -> None:
    os.kill(child.pid, signal.SIGTERM)
    await asyncio.wait_for(child.exited, 10)


async def test_a_taken_child_serves_and_is_replaced(zygote: Zygote) -> None:
    first = await parked_pid(zygote)

    child = await zygote.fork()

    assert (child.pid, child.source) == (first, POOL)
    assert child.listening is not None
    assert await asyncio.wait_for(child.listening, 10) is True  # its own readiness passed
    assert (await readiness(child.port)).startswith(b"HTTP/1.1 200")
    second = await parked_pid(zygote)
    assert second != first
    await stop(child)


async def test_a_parked_child_never_listens_or_serves_before_it_is_taken(
    zygote: Zygote,
) -> None:
    pid = await parked_pid(zygote)
    port = zygote.parked[pid].port
    await eventually(lambda: waits_for_its_go_line(pid), "the parked child to wait for go")

    assert port not in listening_ports()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    assert not gone(pid)

    child = await zygote.fork()

    assert child.port == port and port in listening_ports()
    assert (await readiness(port)).startswith(b"HTTP/1.1 200")
    await stop(child)


async def test_a_killed_parked_child_is_replaced_and_forks_still_work(zygote: Zygote) -> None:
    pid = await parked_pid(zygote)

    os.kill(pid, signal.SIGKILL)
    await eventually(lambda: pid not in zygote.parked, "the runtime to hear of the death")
    child = await zygote.fork()  # the pool is empty while the zygote backs off

    assert child.source == FORK
    assert (await readiness(child.port)).startswith(b"HTTP/1.1 200")
    await eventually(lambda: len(zygote.parked) == 1, "a replacement parked child")
    assert next(iter(zygote.parked)) not in (pid, child.pid)
    await stop(child)


async def test_a_parked_child_killed_as_it_is_taken_is_reported_as_exited(
    zygote: Zygote,
) -> None:
    pid = await parked_pid(zygote)

    os.kill(pid, signal.SIGKILL)
    child = await zygote.fork()  # before the runtime heard of it: the take may succeed

    if child.pid == pid:  # taken while dying: an instance that exits, never a hang
        assert await asyncio.wait_for(child.exited, 10) == -9
    else:
        assert (await readiness(child.port)).startswith(b"HTTP/1.1 200")
        await stop(child)
    await eventually(lambda: len(zygote.parked) == 1, "a replacement parked child")


async def test_an_empty_pool_falls_back_to_forking(zygote: Zygote) -> None:
    await parked_pid(zygote)

    pooled = await zygote.fork()
    forked = await zygote.fork()  # the refill waits for a quiet moment

    assert (pooled.source, forked.source) == (POOL, FORK)
    for child in (pooled, forked):
        assert (await readiness(child.port)).startswith(b"HTTP/1.1 200")
        await stop(child)


async def test_closing_the_zygote_leaves_no_child_parked_or_serving(
    workload: Workload, tmp_path: Path
) -> None:
    zygote = Zygote(workload, {}, tmp_path, pool_size=2)
    await zygote.start(timeout=60)
    await eventually(lambda: len(zygote.parked) == 2, "two parked children")
    serving = await zygote.fork()
    assert (await readiness(serving.port)).startswith(b"HTTP/1.1 200")
    await eventually(lambda: len(zygote.parked) == 2, "the pool refilled")
    assert zygote.pid is not None
    pids = [zygote.pid, serving.pid, *zygote.parked]

    await zygote.close()

    await eventually(lambda: all(gone(pid) for pid in pids), "every process to go", timeout=10)


async def test_a_spawned_process_says_when_it_listens(workload: Workload, tmp_path: Path) -> None:
    child = await spawn(workload, {}, tmp_path)
    try:
        assert child.source == SPAWN and child.listening is not None
        await asyncio.wait_for(child.listening, 60)
        assert (await readiness(child.port)).startswith(b"HTTP/1.1 200")
    finally:
        await stop(child)


async def test_the_launcher_reports_the_pool_and_its_source(
    workload: Workload, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(launcher_module, "MEMORY_INTERVAL", 0.05)  # the parked child's, soon
    launcher = Launcher(workload, {}, tmp_path, pool_size=1, pool_source=POOL)
    launcher.start()
    try:
        zygote = await launcher.zygote()
        assert zygote is not None
        parked = await parked_pid(zygote)
        launcher.refresh()
        facts = launcher.facts or {}
        assert facts["pool"]["parked"] == [parked]

        def pool_memory() -> int:  # read on a thread, then reported
            launcher.refresh()
            return int((launcher.facts or {})["pool"]["ussBytes"])

        assert await eventually(pool_memory, "the pool's memory") > 0

        child, how = await launcher.launch()

        assert (child.pid, how) == (parked, POOL)
        await stop(child)
    finally:
        await launcher.aclose()


async def test_sigterm_stops_a_parked_child(zygote: Zygote) -> None:
    pid = await parked_pid(zygote)
    await eventually(lambda: waits_for_its_go_line(pid), "the parked child to wait for go")

    os.kill(pid, signal.SIGTERM)

    await eventually(lambda: gone(pid), "the parked child to exit", timeout=5)
    await eventually(lambda: pid not in zygote.parked, "the runtime to drop it")


async def test_the_functions_start_runs_only_once_the_child_is_taken(
    build_function: Callable[[str], Any], tmp_path: Path
) -> None:
    async with zygote_of(build_function, "slow", {"SLOW_START": "1"}, tmp_path) as zygote:
        pid = await parked_pid(zygote)  # its start() sleeps 1 s
        # a start() run while parked would hold the child in its 1 s sleep before this
        await eventually(lambda: waits_for_its_go_line(pid), "the parked child to wait for go")

        taken = time.monotonic()
        child = await zygote.fork(env={"GREETING": "go"})
        assert child.source == POOL and child.listening is not None
        await asyncio.wait_for(child.listening, 10)

        assert time.monotonic() - taken >= 0.9
        await stop(child)


async def test_a_taken_child_gets_its_port_and_the_go_lines_env(
    build_function: Callable[[str], Any], tmp_path: Path
) -> None:
    env = {"K_REVISION": "crashy-00001"}
    async with zygote_of(build_function, "crashy", env, tmp_path) as zygote:
        await parked_pid(zygote)
        child = await zygote.fork(env={"GREETING": "hi"})
        assert child.source == POOL

        reader, writer = await asyncio.open_connection("127.0.0.1", child.port)
        writer.write(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        reply = await asyncio.wait_for(reader.read(), 10)
        writer.close()

        body = reply.split(b"\r\n\r\n", 1)[1]  # one chunk: the JSON object
        seen = json.loads(body[body.index(b"{") : body.rindex(b"}") + 1])
        assert seen["pid"] == child.pid
        assert seen["env"]["PORT"] == str(child.port)
        assert seen["env"]["LISTEN_ADDRESS"] == f"127.0.0.1:{child.port}"
        assert seen["env"]["GREETING"] == "hi"
        assert seen["env"]["K_REVISION"] == "crashy-00001"
        await stop(child)


async def test_a_tcp_probed_function_is_ready_once_its_taken_child_listens(
    build_function: Callable[[str], Any], tmp_path: Path
) -> None:
    project, environment = build_function("gff-echo")
    workload = Workload.of(project, environment, readiness_path="")  # functions-framework: TCP
    launcher = Launcher(workload, {}, tmp_path, pool_size=1, pool_source=POOL)
    launcher.start()
    try:
        zygote = await launcher.zygote()
        assert zygote is not None
        await parked_pid(zygote)
        child, how = await launcher.launch()

        assert child.listening is not None  # its word, on which the revision routes to it
        assert await asyncio.wait_for(child.listening, 10) is True
        assert how == POOL and child.port in listening_ports()
        await stop(child)
    finally:
        await launcher.aclose()


async def test_a_function_whose_readiness_fails_at_first_is_probed_until_it_passes(
    build_function: Callable[[str], Any], tmp_path: Path
) -> None:
    async with zygote_of(build_function, "slow", {"READY_AFTER": "0.3"}, tmp_path) as zygote:
        await parked_pid(zygote)
        child = await zygote.fork()
        instance = Instance(child, container_concurrency=0, cold_start=POOL)
        taken = time.monotonic()

        assert await instance.wait_ready("/health/readiness", taken + 10) is True

        assert child.listening is not None and child.listening.result() is False
        assert time.monotonic() - taken >= 0.3  # ready only once its ready() said so
        await stop(child)
        instance.upstream.close()


async def test_a_killed_zygote_takes_its_parked_children_along(zygote: Zygote) -> None:
    parked = await parked_pid(zygote)
    assert zygote.pid is not None

    os.kill(zygote.pid, signal.SIGKILL)

    await eventually(lambda: gone(parked), "the parked child to die with its zygote", timeout=10)
    await eventually(lambda: zygote.closed.is_set() and not zygote.parked, "the pool dropped")
    with pytest.raises(InstanceError):
        await zygote.fork()


def both_lines_arrived(zygote: Zygote, lines: int) -> bool:
    """``lines`` event lines wait unread in the zygote's control socket (read by peeking)."""
    assert zygote._writer is not None
    held = zygote._writer.get_extra_info("socket")
    with socket.fromfd(held.fileno(), held.family, held.type) as sock:
        try:
            return sock.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT).count(b"\n") >= lines
        except BlockingIOError:
            return False


async def test_a_forked_child_that_exits_before_its_fork_is_answered_is_reported_as_exited(
    build_function: Callable[[str], Any], tmp_path: Path
) -> None:
    # A crash-looping function exits in start(): under load its exit line arrived in the same
    # read as its "forked" line, before fork() registered the pid, and the instance then
    # waited for an exit that had already been reported (the revision stopped restarting).
    project, environment = build_function("crashy")
    workload = Workload.of(project, environment, readiness_path="/health/readiness")
    running = Zygote(workload, {}, tmp_path, pool_size=0)
    await running.start(timeout=60)
    try:
        forking = asyncio.ensure_future(running.fork({"CRASH_ON_START": "3"}))
        await asyncio.sleep(0)  # one step: the command is written, fork() awaits the answer
        assert running._lock.locked()
        deadline = time.monotonic() + 30
        while not both_lines_arrived(running, 2) and time.monotonic() < deadline:
            time.sleep(0.01)  # the loop is held on purpose: nothing reads the lines yet
        assert both_lines_arrived(running, 2), "the zygote never said forked and exited"
        child = await forking
        assert await asyncio.wait_for(child.exited, 10) == 3
    finally:
        await running.close()
