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
from collections.abc import Sequence
from pathlib import Path

import uvicorn
import uvloop
from starlette.types import Receive, Scope, Send

from bulut.settings import Settings

from .dataplane import Eventing
from .memory_feed import MemoryFeed


class _Mount:
    """``/eventing/...`` to the admin app, everything else to the ingress."""

    def __init__(self, eventing: Eventing) -> None:
        self.eventing = eventing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/eventing/"):
            child = dict(scope)
            child["path"] = path[len("/eventing") :]
            child["root_path"] = scope.get("root_path", "") + "/eventing"
            await self.eventing.admin_app(child, receive, send)
            return
        await self.eventing.ingress_app(scope, receive, send)


async def serve(resources: Path, state_dir: Path, host: str, port: int, sync: bool) -> None:
    """Run until cancelled."""
    feed = MemoryFeed(json.loads(resources.read_text()))
    settings = Settings(host=host, data_port=port, state_dir=state_dir)
    eventing = Eventing(settings, feed, state_dir=state_dir, sync_fanout=sync)
    await eventing.open()
    config = uvicorn.Config(
        _Mount(eventing), host=host, port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    runner = asyncio.create_task(eventing.run())
    try:
        await server.serve()
    finally:
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
    uvloop.run(serve(args.resources, args.state_dir, args.host, args.port, args.sync))


if __name__ == "__main__":
    main()
