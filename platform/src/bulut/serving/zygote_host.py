"""The program a revision's zygote (and a freshly spawned instance) runs.

It runs under the *function's* Python, in the function's own environment, so it must
not import ``bulut``: stdlib plus what that environment has (uvicorn, func-python or
functions-framework, the function module). Executed by path::

    python zygote_host.py zygote --project DIR --flavour cloudevents --pool 1
    python zygote_host.py serve  --project DIR --flavour http

``zygote`` imports the server, the runtime library and the function, builds the ASGI
app exactly as func-python's ``serve()`` would (without binding), primes it with one
in-process ``GET /health/readiness``, and then obeys JSON lines on the control socket
(file descriptor ``BULUT_ZYGOTE_FD``):

    -> {"cmd": "fork", "env": {...}}                 <- {"event": "forked", "pid": P, "port": N}
    -> {"cmd": "taken", "pid": P}                    (the runtime took parked child P)
    <- {"event": "ready", "pid": P, "importMs": F}   <- {"event": "exit", "pid": P, "code": C}
    <- {"event": "failed", "message": "..."}         (the app could not be built)

``seed`` (one per function environment and flavour) imports only the server and the
runtime library, never the function, and forks zygotes on request (socket
``BULUT_SEED_FD``, SOCK_SEQPACKET): each request is one JSON message ``{"argv": [...],
"env": {...}, "cwd": "..."}`` with the zygote's control, pool and notification fds
attached (SCM_RIGHTS); the child starts a new session, takes that env and cwd, and runs
``zygote`` mode from the function's import on; the seed answers ``{"pid": P}``. A new
revision's zygote then pays for importing the function only, not for the interpreter and
its libraries (ADR 0014).

``fork`` forks a child onto a loopback socket the zygote bound and listened on *before*
forking, so connections queue in the kernel until the child serves.

The pool (``--pool N``; socket ``BULUT_POOL_FD``): N children forked ahead of need. A
parked child has its event loop running and its port bound but *not listening*, so
nothing can connect to it and it serves nothing. It first rehearses the server's code
paths once with a stand-in app (no user code) on an abstract Unix socket, so that its
first real request does not pay for the copy-on-write faults, then says so; only then
does the zygote hand the runtime its port socket and the write end of its go pipe
(``{"pid": P, "port": N}`` with the two fds, SCM_RIGHTS). To take it, the runtime makes
that socket listen, writes a go line (the env, JSON) down the pipe and tells the zygote
(``taken``), which refills the pool once no command came for ``REFILL_DELAY``, so not
while a cold start still wants the CPU. On go the child runs the ASGI lifespan (the
function's ``start(cfg)``) and serves; a parked child whose pipe closes exits. A parked
child that dies is replaced, with back-off.

Instances teach the pool (:class:`Pages`, ADR 0019): after its first response an instance
reports the memory pages it owns by then (one datagram on a socket pair the zygote made);
the zygote keeps the union of the first reports, and each child it forks into the pool
afterwards copies those pages it still shares before it says it is warm, so the next
instance's start and first request do not pay a copy-on-write fault for each.

Each instance writes its pid and a newline to the pipe ``BULUT_NOTIFY_FD`` once it
listens, so the runtime need not poll for that. ``serve`` does the same in one fresh
process on the socket ``BULUT_LISTEN_FD``. A child dies with its parent
(``PR_SET_PDEATHSIG``); the zygote dies with the runtime (control socket EOF, or the
death signal) and takes every child, parked or not, along.
"""

from __future__ import annotations

import sys

# Run by path, Python puts this folder first on sys.path, where bulut's `queue.py` would
# shadow the stdlib module of that name: drop it before anything imports `queue`.
if sys.path and sys.path[0] and __file__.startswith(sys.path[0]):
    del sys.path[0]

import argparse
import contextlib
import ctypes
import functools
import gc
import json
import os
import re
import select
import signal
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PR_SET_PDEATHSIG = 1
READINESS_PATH = "/health/readiness"
BACKLOG = 1024
REFILL_DELAY = 0.5  # seconds without a command before the pool is (re)filled
MAX_REFILL_DELAY = 10.0  # back-off cap while parked children keep dying
REHEARSAL_TIMEOUT = 5.0  # seconds a parked child may spend rehearsing
THREADS_GRACE = 1.0  # seconds a prime hook's worker threads get to finish


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask Linux to send ``sig`` to this process when its parent dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the control-socket EOF still works
        pass


def build_app(project: str, flavour: str, target: str, signature: str) -> Any:
    """The function's ASGI app, built the way its runtime library's ``serve()`` does."""
    sys.path.insert(0, project)
    if flavour == "functions-framework":
        os.environ.setdefault("FUNCTION_TARGET", target)
        os.environ.setdefault("FUNCTION_SIGNATURE_TYPE", signature)
        from functions_framework.aio import (  # type: ignore[import-not-found]
            create_asgi_app,
        )

        return create_asgi_app(target, os.path.join(project, "main.py"), signature)
    if flavour == "cloudevents":
        from func_python.cloudevent import (  # type: ignore[import-not-found]
            ASGIApplication,
            DefaultFunction,
        )
    else:
        from func_python.http import (  # type: ignore[import-not-found]
            ASGIApplication,
            DefaultFunction,
        )
    import function  # type: ignore[import-not-found]  # the kn func package, by convention

    if hasattr(function, "new"):
        return ASGIApplication(function.new())
    return ASGIApplication(DefaultFunction(function.handle))


class PrimeError(Exception):
    """The function's prime hook left something an instance must not inherit."""


def prime_hook(app: Any, flavour: str, project: str) -> Any:
    """The function's ``prime`` callable, or None when it offers none.

    kn func: a ``prime()`` method on the object ``new()`` returned, else a module-level
    ``prime()`` in the ``function`` package; functions framework: ``prime()`` in main.py.
    """
    method = getattr(getattr(app, "f", None), "prime", None)
    if flavour != "functions-framework" and callable(method):
        return method
    name = "main" if flavour == "functions-framework" else "function"
    module = sys.modules.get(name)
    origin = os.path.realpath(getattr(module, "__file__", "") or "")
    if module is None or not origin.startswith(os.path.realpath(project) + os.sep):
        return None
    hook = getattr(module, "prime", None)
    return hook if callable(hook) else None


def open_descriptors() -> dict[int, str]:
    """This process's open file descriptors and what they point at (Linux; else empty)."""
    found = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                found[int(entry)] = os.readlink(f"/proc/self/fd/{entry}")
    return found


def prime_function(app: Any, flavour: str, project: str) -> bool:
    """Run the function's prime hook once, in the zygote, before any instance exists.

    What it warms (imports, compiled statements, metadata, an app's routes) every instance
    inherits; what instances must not share it must not keep: a hook that leaves a file
    descriptor (a connection, a file) or a thread behind fails the zygote, naming it.
    True when there was a hook.
    """
    import threading

    hook = prime_hook(app, flavour, project)
    if hook is None:
        return False
    descriptors, threads = open_descriptors(), threading.active_count()
    hook()
    gc.collect()  # what the hook dropped closes now, not in every child
    left = {fd: target for fd, target in open_descriptors().items() if fd not in descriptors}
    if left:
        named = ", ".join(f"fd {fd} -> {target}" for fd, target in sorted(left.items()))
        raise PrimeError(
            f"prime() left {len(left)} open file descriptor(s): {named}; close them before "
            "it returns (each instance opens its own in start(cfg))"
        )
    deadline = time.monotonic() + THREADS_GRACE  # pools stop their workers as they close
    while threading.active_count() > threads and time.monotonic() < deadline:
        time.sleep(0.005)
    if threading.active_count() > threads:
        raise PrimeError(
            "prime() left a thread running; stop it before it returns (an instance starts "
            "its own in start(cfg))"
        )
    return True


def server_config(app: Any) -> Any:
    """A loaded uvicorn Config (httptools + uvloop when present) for ``app``."""
    import importlib.util

    import uvicorn

    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    config = uvicorn.Config(
        app,
        lifespan="on",
        http=http,
        loop="auto",
        log_level="warning",
        access_log=False,
        timeout_keep_alive=3600,
        timeout_graceful_shutdown=None,
    )
    config.load()
    return config


def prime_path(flavour: str, signature: str, readiness: str) -> str:
    """A path whose request runs no user code: readiness for kn func, 405 for GFF events."""
    if flavour != "functions-framework":
        return readiness
    return "/" if signature == "cloudevent" else ""  # GET on a POST-only route: no user code


def get_scope(path: str, headers: list[tuple[bytes, bytes]], port: int = 0) -> dict[str, Any]:
    """The ASGI scope uvicorn builds for ``GET path`` from a loopback client to ``port``."""
    scope: dict[str, Any] = {"type": "http", "asgi": {"version": "3.0"}, "method": "GET"}
    scope.update(scheme="http", path=path, raw_path=path.encode(), query_string=b"")
    scope.update(root_path="", headers=headers, http_version="1.1")
    scope.update(client=("127.0.0.1", 1), server=("127.0.0.1", port))
    return scope


def prime(config: Any, path: str) -> None:
    """Push one request through the loaded app in-process (lazy imports, first-call paths)."""
    scope = get_scope(path, [(b"host", b"127.0.0.1")])

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    async def nothing() -> None:
        return None

    from uvicorn._compat import asyncio_run

    # The loop factory imports uvloop: do it here, once, not in every child.
    request = config.loaded_app(scope, receive, send) if path else nothing()
    asyncio_run(request, loop_factory=config.get_loop_factory())
    gc.collect()
    gc.freeze()  # keep the collector from touching (and so copying) the zygote's pages


# The headers of the runtime's own readiness probe (bulut.serving.instances.PROBE_HEADERS).
PROBE_HEADERS = [(b"user-agent", b"Knative-Bulut-Probe"), (b"k-kubelet-probe", b"queue")]
PROBE_TIMEOUT = 1.0  # seconds, as one attempt of the runtime's probe


async def ready_by_itself(app: Any, path: str, port: int, state: dict[str, Any]) -> bool:
    """The revision's readiness probe, answered by ``app`` in this process (ADR 0023).

    An HTTP probe (``path``) is the request the runtime would send, handed to the app the
    server serves, as a sidecar in the pod probes its neighbour: ready when it answers 2xx
    or 3xx within a probe's timeout. A TCP probe (``path`` empty) passes once the server
    listens, which it does by now. Anything else (an error, a 5xx, no answer) is False:
    the runtime then probes over the network, as it always did.
    """
    if not path:
        return True
    import asyncio

    headers = [(b"host", b"127.0.0.1:%d" % port), *PROBE_HEADERS]
    scope = {**get_scope(path, headers, port), "state": dict(state)}
    statuses: list[int] = []
    asked = [False]

    async def receive() -> dict[str, Any]:
        if asked[0]:  # a second read waits for the client, which leaves once answered
            return {"type": "http.disconnect"}
        asked[0] = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))

    try:
        if hasattr(asyncio, "timeout"):  # 3.11: no task of its own, unlike wait_for
            async with asyncio.timeout(PROBE_TIMEOUT):
                await app(scope, receive, send)
        else:
            await asyncio.wait_for(app(scope, receive, send), PROBE_TIMEOUT)
    except Exception:  # the runtime's probe would have seen a 500 or a timeout
        return False
    return bool(statuses) and 200 <= statuses[0] < 400


def tell_listening(notify: int, ready: bool = False) -> None:
    """Write this process's pid to the runtime's notification pipe (if there is one), with
    `` ready`` when its readiness probe passed in-process (:func:`ready_by_itself`)."""
    if notify >= 0:
        with contextlib.suppress(OSError):
            os.write(notify, b"%d%s\n" % (os.getpid(), b" ready" if ready else b""))


def go_line(go: int) -> Any:
    """A future of the go line's env, read from pipe ``go`` by the running loop's reader
    (None when the pipe closes without one). Nothing but the reader runs on the way: the
    future wakes the server's startup directly (SIGTERM resolves it with None too)."""
    import asyncio

    loop = asyncio.get_running_loop()
    arrived: asyncio.Future[dict[str, str] | None] = loop.create_future()
    buffer = bytearray()
    watching = [True]

    def readable() -> None:
        try:
            chunk = os.read(go, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        buffer.extend(chunk)
        if chunk and b"\n" not in buffer:
            return
        done()
        if not arrived.done():
            line = bytes(buffer).split(b"\n", 1)[0] if b"\n" in buffer else None
            arrived.set_result(None if line is None else json.loads(line))

    def done(_: object = None) -> None:
        if watching:  # once: the fd's number may be another file's afterwards
            watching.clear()
            loop.remove_reader(go)
            os.close(go)

    os.set_blocking(go, False)
    loop.add_reader(go, readable)
    arrived.add_done_callback(done)
    return arrived


def stop_waiting(parked: Any) -> None:
    """Resolve ``parked`` (an asyncio future) with None unless it already is."""
    if not parked.done():
        parked.set_result(None)


async def stand_in_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app with no user code, for rehearsals: lifespan, then 200 "ok"."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    while (await receive()).get("more_body"):
        pass
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


async def rehearse(config: Any) -> None:
    """Run the server once, as a request would, with :func:`stand_in_app` on an abstract
    Unix socket: the first real request then finds those pages already copied."""
    import asyncio
    import copy

    import uvicorn

    stand_in = copy.copy(config)
    stand_in.loaded_app = stand_in_app
    server = uvicorn.Server(stand_in)
    server.lifespan = stand_in.lifespan_class(stand_in)
    address = f"\0bulut-rehearsal-{os.getpid()}"  # abstract: no file, no TCP port
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(address)
        await server.startup(sockets=[listener])
        await server.on_tick(0)  # what the main loop does first (the date header)
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(address)  # the listener's backlog takes it at once
        reader, writer = await asyncio.open_unix_connection(sock=client)
        writer.write(
            b"POST / HTTP/1.1\r\nhost: rehearsal\r\ncontent-type: application/json\r\n"
            b"ce-id: 1\r\ncontent-length: 2\r\n\r\n{}"
        )
        await reader.readuntil(b"\r\n\r\nok")
        writer.close()
        for connection in list(server.server_state.connections):
            connection.shutdown()
        await server.lifespan.shutdown()
    finally:
        for running in getattr(server, "servers", []):
            running.close()  # the event loop closes the listener's fd with it
        listener.close()
    gc.collect()
    gc.freeze()  # what is left is this child's own: keep the collector off it


def rehearse_function(reprime: Callable[[], object]) -> None:
    """Run the function's prime hook again in a parked child, before it is parked.

    The zygote's prime warmed what instances inherit, but each instance then writes to
    those inherited pages (reference counts, caches, the engine's pool) and pays a
    copy-on-write fault per page on its start and first request. Rehearsing the same
    work here copies those pages before the child can be taken, and leaves the child
    its own warm objects (a fresh scratch engine whose statements it compiled). It runs
    before ``start(cfg)``, with the same checks as in the zygote; best effort: a child
    whose rehearsal fails still serves, as a child of the zygote's prime would.
    """
    try:
        reprime()
    except Exception:
        traceback.print_exc()


MADV_POPULATE_WRITE = 23  # Linux 5.14: fault pages in writable, as a write to each would
MAX_REPORTED_RUNS = 8192  # runs in one report (16 bytes each: one datagram)
LEARN_FROM = 3  # instances whose pages are learned; later ones need not report
PROBE_HEADER = b"k-kubelet-probe"  # what marks the runtime's readiness probe


def writable_regions(maps: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the private writable mappings in /proc/self/maps' text (the
    heap, anonymous memory, libraries' data), not [stack], [vvar] and the like."""
    regions = []
    for row in maps.splitlines():
        fields = row.split()
        if len(fields) < 5 or not fields[1].startswith("rw") or fields[1][3] != "p":
            continue
        if len(fields) > 5 and fields[5].startswith("[") and fields[5] != "[heap]":
            continue
        start, end = (int(bound, 16) for bound in fields[0].split("-"))
        regions.append((start, end))
    return regions


# A pagemap entry's top byte holds its flags: bit 7 present, bit 0 exclusively mapped.
# These tables turn each top byte into 1 (wanted) or 0, so runs are found by a regex.
OWN_PAGES = bytes(int(flags & 0x81 == 0x81) for flags in range(256))
SHARED_PAGES = bytes(int(flags & 0x81 == 0x80) for flags in range(256))
RUN = re.compile(b"\x01+")


def page_runs(
    pagemap: Any, start: int, end: int, page: int, exclusive: bool
) -> list[tuple[int, int]]:
    """``(address, length)`` runs of the pages in ``[start, end)`` that are in memory and
    this process's own copy (``exclusive``) or still shared copy-on-write (not)."""
    pagemap.seek(start // page * 8)
    entries = pagemap.read((end - start) // page * 8)
    wanted = entries[7::8].translate(OWN_PAGES if exclusive else SHARED_PAGES)
    return [
        (start + found.start() * page, (found.end() - found.start()) * page)
        for found in RUN.finditer(wanted)
    ]


def merge_runs(runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``(address, length)`` runs sorted, with overlapping and adjacent ones joined."""
    merged: list[tuple[int, int]] = []
    for address, length in sorted(runs):
        if merged and address <= merged[-1][0] + merged[-1][1]:
            last, size = merged[-1]
            merged[-1] = (last, max(size, address + length - last))
        else:
            merged.append((address, length))
    return merged


class Pages:
    """The memory an instance of this revision writes on its way to its first response,
    learned from the instances and copied ahead of time by each parked child (ADR 0019).

    An instance inherits the zygote's warm objects copy-on-write, and its start and first
    request write to many of them (reference counts, caches, the allocator's lists): one
    page fault and one page copy each, on the request's path. After its first response an
    instance reports the pages it owns by then (one datagram to the zygote); the zygote
    keeps their union and every child it forks into the pool afterwards copies those of
    them it still shares, with one madvise per run, before it says it is warm. Only pages
    that instances touched are copied, so a parked child grows by that, not by the zygote.
    """

    def __init__(self) -> None:
        self.runs: list[tuple[int, int]] = []
        self.reports = 0  # received; a child knows the count at its fork
        self.inbox, self.outbox = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.inbox.setblocking(False)

    def receive(self) -> None:
        """In the zygote: take in the instances' reports."""
        import array

        while True:
            try:
                message = self.inbox.recv(1 << 18)
            except (BlockingIOError, InterruptedError):
                return
            numbers = array.array("Q")
            numbers.frombytes(message[: len(message) // 16 * 16])
            reported = list(zip(numbers[::2], numbers[1::2], strict=True))
            self.runs = merge_runs([*self.runs, *reported])
            self.reports += 1

    def in_child(self) -> None:
        """Just forked: the inbox is the zygote's."""
        self.inbox.close()

    def report(self) -> None:
        """In an instance, after its first response: tell the zygote what it owns now."""
        import array

        page = os.sysconf("SC_PAGE_SIZE")
        runs: list[tuple[int, int]] = []
        try:
            with open("/proc/self/maps") as maps, open("/proc/self/pagemap", "rb", 0) as pagemap:
                for start, end in writable_regions(maps.read()):
                    runs += page_runs(pagemap, start, end, page, exclusive=True)
        except OSError:  # not Linux
            return
        numbers = array.array("Q", [n for run in runs[:MAX_REPORTED_RUNS] for n in run])
        with contextlib.suppress(OSError):
            self.outbox.send(numbers.tobytes())

    def copy(self) -> int:
        """In a parked child: copy now the learned pages it still shares with the zygote,
        while nobody waits; the number of pages copied (0 where Linux cannot do it)."""
        page = os.sysconf("SC_PAGE_SIZE")
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            madvise = libc.madvise
            madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
            pagemap = open("/proc/self/pagemap", "rb", 0)  # noqa: SIM115
        except (OSError, AttributeError):  # not Linux
            return 0
        copied = 0
        with pagemap:
            for address, length in self.runs:
                for run, size in page_runs(pagemap, address, address + length, page, False):
                    if madvise(run, size, MADV_POPULATE_WRITE) == 0:
                        copied += size // page
                    elif ctypes.get_errno() == 22:  # EINVAL: before Linux 5.14
                        return copied
        return copied

    def learn_from(self, app: Any) -> Any:
        """``app``, which reports this instance's pages after its first request that is
        not the runtime's readiness probe, while the zygote still learns (its first
        ``LEARN_FROM`` instances); ``app`` itself afterwards."""
        import threading

        if self.reports >= LEARN_FROM:
            return app
        reported = False

        async def learning(scope: dict[str, Any], receive: Any, send: Any) -> None:
            nonlocal reported
            await app(scope, receive, send)
            if reported or scope["type"] != "http":
                return
            if any(name == PROBE_HEADER for name, _ in scope.get("headers", ())):
                return
            reported = True
            # Reading the page table takes the kernel a few ms; the loop goes on meanwhile.
            threading.Thread(target=self.report, name="bulut-pages", daemon=True).start()

        return learning


def serve(
    config: Any,
    sock: socket.socket,
    notify: int = -1,
    *,
    go: int = -1,
    warm: int = -1,
    reprime: Callable[[], object] | None = None,
    pages: Pages | None = None,
    readiness: str | None = None,
) -> int:
    """Serve on ``sock`` until SIGTERM; the process exit code.

    A parked child (``go``) first runs ``reprime`` (the function's prime hook, with its
    checks) when given, then its event loop: it rehearses, writes a byte to
    ``warm``, and enters the server, which waits for a go line on the pipe ``go`` just
    before the ASGI lifespan (the function's ``start(cfg)``) and listening. It leaves if
    the pipe closes first, or on SIGTERM. ``notify`` hears this pid once it listens, and
    whether the revision's ``readiness`` probe (a path; "" for TCP) passed in-process.
    With ``pages`` (a child of a zygote) a parked child copies the pages instances were
    seen to write before it says it is warm, and an instance reports its own after its
    first response.
    """
    import asyncio

    import uvicorn
    from uvicorn._compat import asyncio_run

    class Server(uvicorn.Server):
        parked: asyncio.Future[dict[str, str] | None] | None = None  # the go line, while parked

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            if go >= 0:
                self.parked = go_line(go)
                env = await self.parked
                self.parked = None
                if env is None:  # the pool was dropped, or SIGTERM: never serve
                    self.should_exit = True
                    return
                os.environ.update(env)
                assert log is not None  # a parked child opened its log ahead
                log.take()
            await super().startup(sockets=sockets)
            if self.started:
                ready = False
                if readiness is not None and notify >= 0:
                    state = getattr(self.lifespan, "state", {})
                    app = self.config.loaded_app
                    ready = await ready_by_itself(app, readiness, port, state)
                tell_listening(notify, ready)

        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            parked = self.parked
            if parked is not None:
                parked.get_loop().call_soon_threadsafe(stop_waiting, parked)

    port = int(sock.getsockname()[1])
    log = LogAhead() if go >= 0 else None
    server = Server(config)
    if go >= 0 and reprime is not None:
        rehearse_function(reprime)

    async def run() -> None:
        if go >= 0:
            try:
                await asyncio.wait_for(rehearse(config), REHEARSAL_TIMEOUT)
            except Exception:  # best effort: a child that did not rehearse still serves
                traceback.print_exc()
            if pages is not None:
                pages.copy()
            with contextlib.suppress(OSError):
                os.write(warm, b"w")
                os.close(warm)
        if pages is not None:
            config.loaded_app = pages.learn_from(config.loaded_app)
        await server.serve(sockets=[sock])

    try:
        asyncio_run(run(), loop_factory=config.get_loop_factory())
    finally:
        if log is not None:
            log.drop()  # never taken (taken, it is the instance's: nothing left to drop)
    return 0 if server.started else 3


def log_file(name: str) -> str:
    """``$BULUT_LOG_DIR/<name>.log`` (bulut logs reads them there), or "" without a folder."""
    folder = os.environ.get("BULUT_LOG_DIR")
    return os.path.join(folder, f"{name}.log") if folder else ""


def open_log(path: str) -> int:
    """``path`` opened for appending (created if need be); -1 for no path."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if path else -1


class LogAhead:
    """A parked child's own log file, created while it waits (a file's creation is a
    journaled write to the folder, ~0.1-0.3 ms), handed to fds 1 and 2 once it is taken.
    A child that leaves untaken removes it again."""

    def __init__(self) -> None:
        self.path = log_file(str(os.getpid()))
        try:
            self.fd = open_log(self.path)
        except OSError:  # taken, it tries again (and says why it cannot)
            self.path, self.fd = "", -1

    def take(self) -> None:
        """Taken: fds 1 and 2 go to the file (to another one if the go line moved the
        folder)."""
        if log_file(str(os.getpid())) != self.path:
            self.drop()
            redirect_output(str(os.getpid()))
        elif self.fd >= 0:
            redirect_output(str(os.getpid()), self.fd)
        self.path, self.fd = "", -1

    def drop(self) -> None:
        """Never taken: close and remove the file (it is empty)."""
        if self.fd >= 0:
            os.close(self.fd)
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        self.path, self.fd = "", -1


def redirect_output(name: str, fd: int = -1) -> None:
    """Send fds 1 and 2 to :func:`log_file` ``(name)``, or to ``fd`` (opened ahead)."""
    if fd < 0:
        fd = open_log(log_file(name))
    if fd < 0:
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def finish(code: int) -> None:
    """Flush and leave without running the parent's atexit handlers."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def loopback_socket() -> tuple[socket.socket, int]:
    """A TCP socket bound to a free loopback port (not listening yet) and that port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock, int(sock.getsockname()[1])


@dataclass
class Parked:
    """A pre-forked child warming up: its bound socket, go pipe and warm pipe."""

    pid: int
    port: int
    sock: socket.socket
    go: int  # write end of the child's go pipe
    warm: int  # read end of the pipe the child writes one byte to once it is warm

    def close(self) -> None:
        self.sock.close()
        for fd in (self.go, self.warm):
            with contextlib.suppress(OSError):
                os.close(fd)


class Zygote:
    """The fork loop: control commands in, fork and exit events out; the pool kept full."""

    def __init__(
        self,
        control: socket.socket,
        config: Any,
        *,
        pool: socket.socket | None = None,
        pool_size: int = 0,
        notify: int = -1,
        reprime: Callable[[], object] | None = None,
        readiness: str | None = None,
    ) -> None:
        self.control = control
        self.readiness = readiness  # the revision's readiness probe, run by each instance
        self.config = config
        self.reprime = reprime  # run again in each parked child before it is parked
        self.pages = Pages()  # what instances write first: parked children copy it ahead
        self.pool = pool
        self.pool_size = pool_size if pool is not None else 0
        self.notify = notify
        self.children: set[int] = set()
        self.warming: dict[int, Parked] = {}  # by warm fd
        self.parked: set[int] = set()  # handed to the runtime, not taken yet
        self.refill_at = time.monotonic() + REFILL_DELAY  # not while the revision starts
        self.park_deaths = 0
        self.buffer = b""
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)

    def emit(self, **event: Any) -> None:
        """Write one JSON event line to the runtime (gone: stop everything)."""
        try:
            self.control.sendall(json.dumps(event).encode() + b"\n")
        except OSError:
            self.shutdown()

    def pool_deficit(self) -> int:
        """Children the pool lacks (warming ones count as there)."""
        return self.pool_size - len(self.parked) - len(self.warming)

    def run(self) -> None:
        """Serve commands until the runtime goes away; keep the pool full meanwhile."""
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: self.shutdown())
        while True:
            timeout = None
            if self.pool_deficit() > 0:
                timeout = max(0.0, self.refill_at - time.monotonic())
            watched: list[Any] = [self.control, self.wake_r, self.pages.inbox, *self.warming]
            readable, _, _ = select.select(watched, [], [], timeout)
            if self.pages.inbox in readable:
                self.pages.receive()
            if self.wake_r in readable:
                self.drain_wakeups()
                self.reap()
            if self.control in readable:
                try:
                    chunk = self.control.recv(65536)
                except OSError:  # the runtime went away mid-message
                    chunk = b""
                if not chunk:
                    self.shutdown()
                self.buffer += chunk
                while b"\n" in self.buffer:
                    line, self.buffer = self.buffer.split(b"\n", 1)
                    self.command(json.loads(line))
            for fd in readable:
                if fd in self.warming:
                    self.warmed(fd)
            if self.pool_deficit() > 0 and time.monotonic() >= self.refill_at:
                self.park()

    def drain_wakeups(self) -> None:
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass

    def reap(self) -> None:
        """Collect every exited child, parked or not, and report its exit code."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            warming = [fd for fd, parked in self.warming.items() if parked.pid == pid]
            for fd in warming:
                self.warming.pop(fd).close()
            if warming or pid in self.parked:  # died before it was taken
                self.parked.discard(pid)
                self.back_off()
            self.emit(event="exit", pid=pid, code=os.waitstatus_to_exitcode(status))

    def back_off(self) -> None:
        """A parked child died untaken: refill later, and later again if it goes on."""
        self.park_deaths += 1
        delay = min(REFILL_DELAY * 2**self.park_deaths, MAX_REFILL_DELAY)
        self.refill_at = max(self.refill_at, time.monotonic() + delay)

    def command(self, message: dict[str, Any]) -> None:
        self.refill_at = max(self.refill_at, time.monotonic() + REFILL_DELAY)
        if message.get("cmd") == "fork":
            self.fork(dict(message.get("env") or {}))
        elif message.get("cmd") == "taken":
            pid = int(message["pid"])
            if pid in self.parked:  # else it died meanwhile, and its exit was reported
                self.parked.discard(pid)
                self.children.add(pid)
                self.park_deaths = 0

    def park(self) -> None:
        """Fork one child into the pool: it warms up, then waits for its go line."""
        sock, port = loopback_socket()
        go_r, go_w = os.pipe()
        warm_r, warm_w = os.pipe()
        zygote_pid = os.getpid()
        pid = os.fork()
        if pid == 0:
            os.close(go_w)
            os.close(warm_r)
            self.become_parked(sock, go_r, warm_w, port, zygote_pid)
        os.close(go_r)
        os.close(warm_w)
        self.warming[warm_r] = Parked(pid, port, sock, go_w, warm_r)

    def warmed(self, fd: int) -> None:
        """A warming child spoke (warm) or closed its pipe (died): hand it over or drop it."""
        parked = self.warming.pop(fd)
        try:
            warm = os.read(fd, 1)
        except OSError:
            warm = b""
        if warm and self.pool is not None:
            message = json.dumps({"pid": parked.pid, "port": parked.port}).encode()
            try:
                socket.send_fds(self.pool, [message], [parked.sock.fileno(), parked.go])
            except OSError:  # the runtime is going away
                warm = b""
            else:
                self.parked.add(parked.pid)
        parked.close()  # the runtime holds the socket and the go pipe now
        if not warm:  # it died warming up (reaped later, not counted twice)
            self.back_off()
            with contextlib.suppress(ProcessLookupError):
                os.kill(parked.pid, signal.SIGKILL)

    def fork(self, env: dict[str, str]) -> None:
        """Bind and listen, fork a child onto the socket, report pid and port."""
        sock, port = loopback_socket()
        sock.listen(BACKLOG)
        zygote_pid = os.getpid()
        pid = os.fork()
        if pid == 0:
            self.become_child(sock, env, port, zygote_pid)
        sock.close()
        self.children.add(pid)
        self.emit(event="forked", pid=pid, port=port)

    def enter_child(self, zygote_pid: int, port: int) -> None:
        """Just forked: default signals, die with the zygote, drop the zygote's fds."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        # Not Python's default: asyncio.Runner would then install a handler whose repr
        # (built again when uvicorn swaps handlers) costs a task repr on every start.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        die_with_parent()
        if os.getppid() != zygote_pid:
            finish(1)
        self.control.close()
        if self.pool is not None:
            self.pool.close()
        os.close(self.wake_r)
        os.close(self.wake_w)
        self.pages.in_child()
        for sibling in self.warming.values():
            sibling.close()
        os.environ["PORT"] = str(port)
        os.environ["LISTEN_ADDRESS"] = f"127.0.0.1:{port}"

    def become_child(
        self, sock: socket.socket, env: dict[str, str], port: int, zygote_pid: int
    ) -> None:
        code = 1
        try:
            self.enter_child(zygote_pid, port)
            os.environ.update(env)
            redirect_output(str(os.getpid()))
            code = serve(self.config, sock, self.notify, pages=self.pages, readiness=self.readiness)
        except BaseException:
            traceback.print_exc()
        finish(code)

    def become_parked(
        self, sock: socket.socket, go: int, warm: int, port: int, zygote_pid: int
    ) -> None:
        code = 1
        try:
            self.enter_child(zygote_pid, port)
            code = serve(
                self.config,
                sock,
                self.notify,
                go=go,
                warm=warm,
                reprime=self.reprime,
                pages=self.pages,
                readiness=self.readiness,
            )
        except BaseException:
            traceback.print_exc()
        finish(code)

    def shutdown(self) -> None:
        """The runtime is gone: stop every child, parked or not, and leave."""
        warming = [parked.pid for parked in self.warming.values()]
        for pid in [*self.children, *self.parked, *warming]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        finish(0)


# What a seed imports for each flavour: the server and the runtime library, no user code.
SEED_MODULES: dict[str, tuple[str, ...]] = {
    "cloudevents": ("func_python.cloudevent",),
    "http": ("func_python.http",),
    "functions-framework": ("functions_framework.aio",),
}
SERVER_MODULES = (
    "asyncio",
    "uvloop",
    "httptools",
    "uvicorn",
    "uvicorn.config",
    "uvicorn.server",
    "uvicorn._compat",
    "uvicorn.lifespan.on",
    "uvicorn.protocols.http.httptools_impl",
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.loops.uvloop",
)
SEED_REQUEST_BYTES = 1 << 20  # argv + env of one zygote, as JSON


def preload(flavour: str) -> list[str]:
    """Import what every zygote of ``flavour`` imports before the function; the names
    imported (a module the environment lacks is skipped: the zygote will say so)."""
    import importlib

    loaded = []
    for name in (*SERVER_MODULES, *SEED_MODULES.get(flavour, ())):
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        loaded.append(name)
    return loaded


def seed(requests: socket.socket) -> None:
    """Fork a zygote for each request until the runtime closes the socket."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the zygotes
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(requests, SEED_REQUEST_BYTES, 3)
        except InterruptedError:
            continue
        except OSError:
            finish(0)
        if not message:  # the runtime is gone
            finish(0)
        request = json.loads(message)
        pid = os.fork()
        if pid == 0:
            requests.close()
            become_zygote(request, fds)
        for fd in fds:
            os.close(fd)
        try:
            requests.send(json.dumps({"pid": pid}).encode())
        except OSError:
            finish(0)


def become_zygote(request: dict[str, Any], fds: list[int]) -> None:
    """In a seed's child: take the revision's env, cwd and fds and run ``zygote`` mode."""
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # a zygote waits for its children
        os.setsid()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        names = ("BULUT_ZYGOTE_FD", "BULUT_POOL_FD", "BULUT_NOTIFY_FD")
        for name, fd in zip(names, fds, strict=False):
            os.set_inheritable(fd, True)
            os.environ[name] = str(fd)
        main(list(request["argv"]))
    except BaseException:
        traceback.print_exc()
    finish(1)


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``zygote``, ``serve`` or ``seed`` mode."""
    parser = argparse.ArgumentParser(prog="zygote_host")
    parser.add_argument("mode", choices=["zygote", "serve", "seed"])
    parser.add_argument("--project", default="")
    parser.add_argument("--flavour", default="cloudevents")
    parser.add_argument("--target", default="")
    parser.add_argument("--signature-type", default="cloudevent")
    parser.add_argument("--readiness", default=READINESS_PATH)
    parser.add_argument("--pool", type=int, default=0)
    parser.add_argument("--no-prime", action="store_true", help="never call prime()")
    parser.add_argument("--no-reprime", action="store_true", help="call prime() in the zygote only")
    args = parser.parse_args(argv)
    die_with_parent()
    if args.mode == "seed":
        requests = socket.socket(fileno=int(os.environ.pop("BULUT_SEED_FD")))
        preload(args.flavour)
        gc.collect()
        gc.freeze()
        seed(requests)
    if not args.project:
        parser.error("--project is required")
    redirect_output("zygote" if args.mode == "zygote" else str(os.getpid()))
    started = time.perf_counter()
    control = None
    if args.mode == "zygote":
        control = socket.socket(fileno=int(os.environ.pop("BULUT_ZYGOTE_FD")))
    notify = int(os.environ.pop("BULUT_NOTIFY_FD", "-1"))
    pool_fd = int(os.environ.pop("BULUT_POOL_FD", "-1"))
    primed = False
    try:
        app = build_app(args.project, args.flavour, args.target, args.signature_type)
        config = server_config(app)
        if args.mode == "zygote":
            if not args.no_prime:
                primed = prime_function(app, args.flavour, args.project)
            prime(config, prime_path(args.flavour, args.signature_type, args.readiness))
    except BaseException as error:
        traceback.print_exc()
        if control is not None:
            message = f"{type(error).__name__}: {error}"
            control.sendall(json.dumps({"event": "failed", "message": message}).encode() + b"\n")
        finish(1)
    if control is None:
        sock = socket.socket(fileno=int(os.environ.pop("BULUT_LISTEN_FD")))
        finish(serve(config, sock, notify, readiness=args.readiness))
    assert control is not None
    pool = socket.socket(fileno=pool_fd) if pool_fd >= 0 else None
    reprime = None
    if primed and not args.no_reprime:
        reprime = functools.partial(prime_function, app, args.flavour, args.project)
    zygote = Zygote(
        control,
        config,
        pool=pool,
        pool_size=max(args.pool, 0),
        notify=notify,
        reprime=reprime,
        readiness=args.readiness,
    )
    import_ms = (time.perf_counter() - started) * 1000
    zygote.emit(event="ready", pid=os.getpid(), importMs=round(import_ms, 1))
    zygote.run()


if __name__ == "__main__":
    main()
