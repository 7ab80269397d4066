"""``kill -9`` of the runtime mid-stream loses no accepted event.

The broker runs as a real subprocess (``python -m bulut.eventing.standalone``); the
test posts events concurrently, kills the process with SIGKILL while events are still
arriving and being delivered, restarts it on the same state directory and counts:
every event that was answered 202 reaches the subscriber at least once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.eventing import (
    Answer,
    Received,
    binary_headers,
    broker,
    subscriber,
    trigger,
)
from tests.support.network import free_port, listening
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def _start(resources: Path, state_dir: Path, port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "bulut.eventing.standalone",
        "--resources", str(resources), "--state-dir", str(state_dir), "--port", str(port),
    ]  # fmt: skip
    with (state_dir.parent / "broker.log").open("ab") as log:  # a file never fills up like a pipe
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)


async def test_kill_9_mid_stream_loses_no_accepted_event(tmp_path: Path) -> None:
    port = free_port()
    broker_url = f"http://127.0.0.1:{port}/default/default"
    accepted: set[str] = set()
    acked: set[str] = set()
    generation = {"now": 0}
    release = asyncio.Event()

    async def respond(request: Received, n: int) -> Answer:
        born = generation["now"]
        if n > 300:  # hold later deliveries in flight until the broker has been killed
            await release.wait()
        if generation["now"] == born:  # the broker that sent it is still alive
            acked.add(request.ce["id"])
        return 200, [], b""

    async with subscriber(respond) as sub:
        resources = tmp_path / "resources.json"
        resources.write_text(json.dumps([broker(), trigger("all", sub.url)]))
        state = tmp_path / "state"
        process = _start(resources, state, port)
        try:
            await listening(broker_url, process, tmp_path / "broker.log")
            ids = iter(range(100_000))
            killed = asyncio.Event()
            async with httpx.AsyncClient(timeout=5) as http:

                async def post_until_killed() -> None:
                    for i in ids:
                        if killed.is_set():
                            return
                        try:
                            response = await http.post(
                                broker_url,
                                headers=binary_headers(f"ev-{i}"),
                                content=b'{"n": %d}' % i,
                            )
                        except httpx.TransportError:
                            return
                        if response.status_code == 202:
                            accepted.add(f"ev-{i}")

                async def kill_when_busy() -> None:
                    await eventually(
                        lambda: len(accepted) >= 1500, "1500 accepted events", timeout=90
                    )
                    os.kill(process.pid, signal.SIGKILL)
                    killed.set()

                await asyncio.gather(kill_when_busy(), *(post_until_killed() for _ in range(16)))
            process.wait(timeout=10)
            generation["now"] += 1
            release.set()
            acked_before = set(acked)
            assert len(accepted) >= 1500

            restarted_at = time.monotonic()
            process = _start(resources, state, port)
            before = len(sub.received)
            first_redelivery: list[float] = []

            def every_accepted_event_acked() -> bool:
                if not first_redelivery and len(sub.received) > before:
                    first_redelivery.append(time.monotonic() - restarted_at)
                return accepted <= acked

            what = f"all {len(accepted)} accepted events to reach the subscriber (none lost)"
            await eventually(every_accepted_event_acked, what, timeout=30)
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
    assert len(acked_before) < len(accepted) / 2, "most deliveries were pending at the kill"
    assert first_redelivery
