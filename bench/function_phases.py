"""Where a function's cold start goes, measured inside one process of its own Python.

Run by ``bench_coldstart.py --function NAME`` with the function environment's interpreter
(it must not import ``bulut``), it does what a zygote and one of its instances do, in order,
and times each step:

    import    the server, the runtime library and the function (the zygote does this)
    prime     the function's prime hook, when it offers one (the zygote does this)
    start     the ASGI lifespan startup: the function's ``start(cfg)`` (each instance)
    ready     one readiness probe (each instance, before it gets traffic)
    first     the first request (each instance)
    warm      the same request again (what the first one costs once everything is warm)

and, for ``start`` and ``first``, the modules they imported (work left for the cold path).
That first instance creates the function's database. ``later`` times the same steps of an
instance as a revision's later cold starts make it: a child forked after the prime hook, as
the zygote forks its pool, that runs the hook again (as parked children do) and, once the
first instance has stopped, starts on the database it left. It prints one JSON object. The
request comes as JSON on the command line: ``{"method", "path", "headers": [[name, value]],
"body"}``; ``{n}`` in the body and in header values is replaced by a counter, so each request
is a new event.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HOST_PROGRAM = (
    Path(__file__).resolve().parent.parent
    / "platform"
    / "src"
    / "bulut"
    / "serving"
    / "zygote_host.py"
)


def load_host() -> Any:
    """zygote_host.py as a module (it imports nothing from bulut)."""
    spec = importlib.util.spec_from_file_location("zygote_host", HOST_PROGRAM)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["zygote_host"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8080),
    }


async def call(app: Any, scope: dict[str, Any], body: bytes) -> int:
    """One request through the ASGI app; its status."""
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            await asyncio.Event().wait()  # no more body, no disconnect
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


class Lifespan:
    """An ASGI lifespan that has started: ``stop()`` runs its shutdown (``stop()`` of a kn
    func function)."""

    def __init__(self, task: asyncio.Task[None], inbox: asyncio.Queue[dict[str, Any]]) -> None:
        self.task, self.inbox = task, inbox

    async def stop(self) -> None:
        await self.inbox.put({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(self.task, 10)
        except TimeoutError:
            self.task.cancel()


async def lifespan_startup(app: Any) -> Lifespan:
    """Run the lifespan until startup completes."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    await inbox.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup") and not started.done():
            started.set_result(message["type"])

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task: asyncio.Task[None] = asyncio.ensure_future(app(scope, inbox.get, send))
    outcome = await started
    if outcome != "lifespan.startup.complete":
        raise RuntimeError(f"start failed: {outcome}")
    return Lifespan(task, inbox)


class Stopwatch:
    """Wall and CPU milliseconds per step, and the modules a step imported."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.imported: dict[str, list[str]] = {}
        self._started = (0.0, 0.0)

    def start(self) -> None:
        self._started = (time.perf_counter(), time.process_time())

    def stop(self, name: str, before: set[str] | None = None) -> None:
        wall, cpu = self._started
        self.wall[name] = round((time.perf_counter() - wall) * 1000, 2)
        self.cpu[name] = round((time.process_time() - cpu) * 1000, 2)
        if before is not None:
            self.imported[name] = sorted(set(sys.modules) - before)


def numbered(text: str, n: int) -> str:
    return text.replace("{n}", str(n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True)
    parser.add_argument("--flavour", default="cloudevents")
    parser.add_argument("--target", default="")
    parser.add_argument("--signature-type", default="cloudevent")
    parser.add_argument("--readiness", default="/health/readiness")
    parser.add_argument("--request", required=True, help="JSON: method, path, headers, body")
    args = parser.parse_args()
    request = json.loads(args.request)
    watch = Stopwatch()

    watch.start()
    host = load_host()
    app = host.build_app(args.project, args.flavour, args.target, args.signature_type)
    host.server_config(app)
    watch.stop("import")
    watch.start()
    primed = host.prime_function(app, args.flavour, args.project)
    watch.stop("prime")

    def one(n: int) -> tuple[dict[str, Any], bytes]:
        headers = [(k.lower().encode(), numbered(v, n).encode()) for k, v in request["headers"]]
        body = numbered(request.get("body", ""), n).encode()
        return http_scope(request["method"], request["path"], headers), body

    async def instance(watch: Stopwatch) -> dict[str, int]:
        before = set(sys.modules)
        watch.start()
        lifespan = await lifespan_startup(app)
        watch.stop("start", before)
        statuses = {}
        if args.readiness:
            watch.start()
            statuses["ready"] = await call(app, http_scope("GET", args.readiness, []), b"")
            watch.stop("ready")
        before = set(sys.modules)
        watch.start()
        statuses["first"] = await call(app, *one(time.time_ns() // 1000))
        watch.stop("first", before)
        watch.start()
        statuses["warm"] = await call(app, *one(time.time_ns() // 1000 + 1))
        watch.stop("warm")
        await lifespan.stop()
        return statuses

    def rehearse() -> None:  # what the zygote's parked children do before they are taken
        if primed:
            host.rehearse_function(lambda: host.prime_function(app, args.flavour, args.project))
        gc.collect()
        gc.freeze()

    gc.collect()
    gc.freeze()  # as the zygote does before it forks
    later = Stopwatch()
    parked = Parked(rehearse, lambda: asyncio.run(instance(later)), later)
    statuses = asyncio.run(instance(watch))
    later_statuses = parked.go()
    print(
        json.dumps(
            {
                "ms": watch.wall,
                "cpuMs": watch.cpu,
                "primed": bool(primed),
                "status": statuses,
                "imported": watch.imported,
                "later": {"ms": later.wall, "cpuMs": later.cpu, "status": later_statuses},
            }
        )
    )


class Parked:
    """A child forked now, as the zygote forks its pool: it runs ``rehearse()``, says it is
    warm and waits; :meth:`go` lets it ``run()`` (filling ``watch``) and returns the result.
    The child leaves with ``os._exit``, as a zygote's child does."""

    def __init__(
        self, rehearse: Callable[[], None], run: Callable[[], dict[str, int]], watch: Stopwatch
    ) -> None:
        self.watch = watch
        go_read, self.go_write = os.pipe()
        self.read, out_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.go_write)
            os.close(self.read)
            code = 1
            try:
                rehearse()
                os.write(out_write, b"w")
                if os.read(go_read, 1) == b"g":
                    result = {"statuses": run(), "wall": watch.wall, "cpu": watch.cpu}
                    os.write(out_write, json.dumps(result).encode())
                    code = 0
            finally:
                os._exit(code)
        os.close(go_read)
        os.close(out_write)
        if os.read(self.read, 1) != b"w":  # warm, before this process goes on
            raise RuntimeError("the parked child failed before it was warm")

    def go(self) -> dict[str, int]:
        os.write(self.go_write, b"g")
        os.close(self.go_write)
        with os.fdopen(self.read, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        if status != 0 or not data:
            raise RuntimeError(f"the later instance failed (wait status {status})")
        result = json.loads(data)
        self.watch.wall, self.watch.cpu = result["wall"], result["cpu"]
        return dict(result["statuses"])


if __name__ == "__main__":
    main()
