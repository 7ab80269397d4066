"""Instructions per delivered event of the broker, counted by valgrind: a figure the load
of a shared machine does not move.

CPU time per event on the shared 2-core box swings by ±15% between runs of the same code
(other engineers' work shares caches and cores), so a 5–10% change hides in it. This
script runs a fixed workload in one process — the eventing data plane (log, ingress
decisions, dispatcher, deliverer) with 10 triggers of which one matches, fed ``N`` binary
events by the native ingress handler in bursts of 32, each burst delivered before the next —
to a real uvicorn subscriber (another process, not counted), under
``valgrind --tool=cachegrind``. It runs twice (``--small`` and ``--events``) and prints
the difference of the instruction counts divided by the difference of the events, so
start-up and imports cancel out. The WAL's fsync helper is a child process and is not
counted; the HTTP parsing of the ingress request and the writing of its 202 are not
either (the handler is called directly). Everything else a delivered event costs the
broker's process is.

``--ingest`` counts durable ingest instead (no trigger): each request's bytes go through
the standalone broker's own server — ``bulut.httpd``'s connection parses them, the front
routes them, the ingress logs the event and the 202 is written once its group is fsync'd —
fed in bursts of one request on each of 32 keep-alive connections, the next burst once all
32 are answered. Only the socket calls and uvloop's own work are left out (a fake transport takes
the 202s).

Run: ``.venv/bin/python -m bench.broker_instructions [--ingest] [--broker-path
OTHER/platform/src ...]`` (each path is measured after this checkout's, in the order
given; ~1 minute per variant). Needs ``valgrind`` on the PATH.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.bench_broker import (
    BODY,
    HEADERS,
    free_port,
    resources_with_triggers,
    start_subscriber,
    stop,
)

BURST = 32
_REFS = re.compile(rb"I\s+refs:\s+([\d,]+)")


class _Accepted:
    """The ingress's reply: only a 202 is expected."""

    __slots__ = ()

    def respond(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if status != 202:
            raise RuntimeError(f"the ingress answered {status}")


async def workload(events: int, subscriber_port: int) -> None:
    """Deliver ``events`` events through the data plane in bursts of :data:`BURST`."""
    from bulut.eventing.dataplane import Eventing
    from bulut.eventing.memory_feed import MemoryFeed
    from bulut.eventing.records import Outcome, StoredEvent
    from bulut.httpd import Request
    from bulut.processes import collector
    from bulut.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        settings = Settings(host="127.0.0.1", data_port=free_port(), state_dir=state)
        feed = MemoryFeed(resources_with_triggers(subscriber_port, 10))
        eventing = Eventing(settings, feed, state_dir=state)
        await eventing.open()
        runner = asyncio.create_task(eventing.run())
        while len(eventing.dispatcher.queues) < 10 or any(
            q.recovering for q in eventing.dispatcher.queues.values()
        ):
            await asyncio.sleep(0.01)
        collector.settle()
        finished = target = 0
        reached = asyncio.Event()
        notify = eventing.dispatcher.notify_outcome

        def counted(event: StoredEvent, outcome: Outcome) -> None:
            nonlocal finished
            notify(event, outcome)
            if outcome.outcome != "delivered":
                raise RuntimeError(f"event {event.seq}: {outcome.outcome} {outcome.detail}")
            finished += 1
            if finished >= target:
                reached.set()

        eventing.dispatcher.notify_outcome = counted  # type: ignore[method-assign]
        reply = _Accepted()
        for start in range(0, events, BURST):
            target = min(start + BURST, events)
            reached.clear()
            for i in range(start, target):
                headers = [*HEADERS, (b"ce-type", b"bench.0"), (b"ce-id", str(i).encode())]
                request = Request(b"POST", b"/default/default", headers, BODY, host=b"bench")
                eventing.ingress.handle_request(request, reply)
            await reached.wait()
        await eventing.log.flush()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await eventing.aclose()


class _Transport:
    """A client connection's transport: counts the 202s written, checks they are 202s."""

    __slots__ = ("answered", "done", "wanted")

    def __init__(self) -> None:
        self.answered = 0
        self.wanted = 0
        self.done = asyncio.Event()

    def write(self, data: bytes) -> None:
        if not data.startswith(b"HTTP/1.1 202"):
            raise RuntimeError(f"the broker answered {data[:40]!r}")
        self.answered += 1
        if self.answered >= self.wanted:
            self.done.set()

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else None

    def is_closing(self) -> bool:
        return False


async def ingest_workload(events: int) -> None:
    """Ingest ``events`` events through the standalone broker's server (no trigger), in
    bursts of :data:`BURST` connections with one request each."""
    from bulut.eventing.dataplane import Eventing
    from bulut.eventing.memory_feed import MemoryFeed
    from bulut.eventing.standalone import EventingServer
    from bulut.httpd.connection import ClientConnection
    from bulut.processes import collector
    from bulut.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        settings = Settings(host="127.0.0.1", data_port=free_port(), state_dir=state)
        eventing = Eventing(settings, MemoryFeed(resources_with_triggers(1, 0)), state_dir=state)
        await eventing.open()
        runner = asyncio.create_task(eventing.run())
        while ("default", "default") not in eventing.dispatcher.brokers:
            await asyncio.sleep(0.01)
        server = EventingServer(eventing)
        collector.settle()
        transport = _Transport()
        connections = [ClientConnection(server) for _ in range(BURST)]  # kept alive
        for connection in connections:
            connection.connection_made(transport)  # type: ignore[arg-type]
        for start in range(0, events, BURST):
            transport.wanted = min(start + BURST, events)
            transport.done.clear()
            for connection, i in zip(connections, range(start, transport.wanted), strict=False):
                head = [b"POST /default/default HTTP/1.1", b"host: 127.0.0.1:8080",
                        *(name + b": " + value for name, value in HEADERS),
                        b"ce-type: bench.0", b"ce-id: " + str(i).encode(),
                        b"content-length: " + str(len(BODY)).encode()]  # fmt: skip
                connection.data_received(b"\r\n".join(head) + b"\r\n\r\n" + BODY)
            await transport.done.wait()
        await eventing.log.flush()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await eventing.aclose()


def instructions(
    events: int, subscriber_port: int, broker_path: str | None, ingest: bool = False
) -> int:
    """Instructions valgrind counts for one run of :func:`workload`."""
    env = dict(os.environ)
    if broker_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [broker_path, env.get("PYTHONPATH")]))
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
               sys.executable, "-m", "bench.broker_instructions", "--run", str(events),
               "--subscriber", str(subscriber_port), *(["--ingest"] if ingest else [])]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, check=True, timeout=900)
    found = _REFS.search(done.stderr)
    if found is None:
        raise RuntimeError(f"valgrind printed no instruction count: {done.stderr[-500:]!r}")
    return int(found.group(1).replace(b",", b""))


def main() -> None:
    parser = argparse.ArgumentParser(description="Broker instructions per delivered event.")
    parser.add_argument("--events", type=int, default=1500, help="Events of the long run.")
    parser.add_argument("--small", type=int, default=300, help="Events of the short run.")
    parser.add_argument("--broker-path", action="append", default=[], help="Another checkout's "
                        "platform/src to measure after this one (repeatable).")  # fmt: skip
    parser.add_argument("--ingest", action="store_true", help="Count durable ingest per "
                        "event (no trigger) instead of delivery.")  # fmt: skip
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)  # inside valgrind
    parser.add_argument("--subscriber", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run is not None:
        import uvloop

        run = ingest_workload(args.run) if args.ingest else workload(args.run, args.subscriber)
        uvloop.run(run)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    port = free_port()
    subscriber = start_subscriber(port)
    try:
        for label, path in [("this checkout", None), *((p, p) for p in args.broker_path)]:
            small = instructions(args.small, port, path, args.ingest)
            large = instructions(args.events, port, path, args.ingest)
            per_event = (large - small) / (args.events - args.small)
            load = os.getloadavg()[0]
            what = "ingested" if args.ingest else "delivered"
            print(f"{label}: {per_event:,.0f} instructions per {what} event "
                  f"({args.small} and {args.events} events, load {load:.1f})")  # fmt: skip
    finally:
        stop(subscriber)


if __name__ == "__main__":
    main()
