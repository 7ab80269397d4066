"""Run the eventing data plane alone: ``python -m bulut.eventing.standalone``.

Reads Broker/Trigger/PingSource/Service objects (JSON list, Knative shape, with
``status`` URLs filled in) and serves the broker ingress on ``--port`` and the admin
API under ``/eventing`` on the same port. Used by the durability test (it is killed
with ``kill -9`` and restarted) and handy for poking at the broker by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import Sequence
from pathlib import Path

import uvloop

from bulut.httpd import ClientConnection, Request, Server, listen
from bulut.processes import collector
from bulut.settings import Settings

from .dataplane import Eventing
from .memory_feed import MemoryFeed

ADMIN_PREFIX = b"/eventing/"


class EventingServer(Server):
    """``/eventing/...`` to the admin app (ASGI), everything else to the native ingress."""

    def __init__(self, eventing: Eventing) -> None:
        super().__init__(eventing.ingress_app, limits=eventing.settings.request_limits)
        self.eventing = eventing

    def body_limit(self, host: bytes, target: bytes, headers: list[tuple[bytes, bytes]]) -> int:
        """The ingress's limit for its mode; the admin app's: the server's."""
        if target.startswith(ADMIN_PREFIX):
            return self.max_body_bytes
        return min(self.max_body_bytes, self.eventing.ingress.body_limit(host, target, headers))

    def dispatch(self, connection: ClientConnection, request: Request) -> None:
        """Answer one request (in order, one at a time per connection)."""
        if request.target.startswith(ADMIN_PREFIX):
            scope = request.scope(self.server_address)
            scope["path"] = scope["path"][len("/eventing") :]
            scope["root_path"] = "/eventing"
            self.answer(connection, request, self.eventing.admin_app, scope)
            return
        self.answer(connection, request, self.app, None)


async def serve(resources: Path, settings: Settings, sync: bool) -> None:
    """Run until cancelled, SIGINT or SIGTERM."""
    feed = MemoryFeed(json.loads(resources.read_text()))
    eventing = Eventing(settings, feed, state_dir=settings.state_dir, sync_fanout=sync)
    await eventing.open()
    server = EventingServer(eventing)
    # What start-up made lives as long as the process: frozen out of the collector's sight
    # (a full collection under load 86 -> 33 ms, ADR 0020), and the young generation is
    # collected every 50,000 allocations, not 700 (GC was ~14% of the CPU, ADR 0025).
    collector.settle()
    runner = asyncio.create_task(eventing.run())
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await server.start(listen(settings.host, settings.data_port))
        await stopping.wait()
    finally:
        await server.stop(grace=5.0)
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        await eventing.aclose()


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--resources", type=Path, required=True)
    parser.add_argument("--state-dir", type=Path, default=Path(".bulut"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--sync", action="store_true", help="answer after fan-out (Knative IMC)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = Settings(host=args.host, data_port=args.port, state_dir=args.state_dir)
    uvloop.run(serve(args.resources, settings, args.sync))


if __name__ == "__main__":
    main()
