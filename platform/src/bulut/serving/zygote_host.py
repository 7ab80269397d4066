"""The program a revision's zygote (and a freshly spawned instance) runs.

It runs under the *function's* Python, in the function's own environment, so it must
not import ``bulut``: stdlib plus what that environment has (uvicorn, func-python or
functions-framework, the function module). Executed by path::

    python zygote_host.py zygote --project DIR --flavour cloudevents
    python zygote_host.py serve  --project DIR --flavour http

``zygote`` imports the server, the runtime library and the function, builds the ASGI
app exactly as func-python's ``serve()`` would (without binding), primes it with one
in-process ``GET /health/readiness``, and then obeys JSON lines on the control socket
(file descriptor ``BULUT_ZYGOTE_FD``):

    -> {"cmd": "fork", "env": {...}}                 <- {"event": "forked", "pid": P, "port": N}
    <- {"event": "ready", "pid": P, "importMs": F}   <- {"event": "exit", "pid": P, "code": C}
    <- {"event": "failed", "message": "..."}         (the app could not be built)

Each child runs the ASGI lifespan (so the function's ``start(cfg)`` happens after the
fork, never shared) and serves HTTP/1.1 with uvicorn on a loopback socket the zygote
bound and listened on *before* forking, so connections queue in the kernel meanwhile.
``serve`` does the same in one fresh process on the socket ``BULUT_LISTEN_FD``.
A child dies with its parent (``PR_SET_PDEATHSIG``); the zygote dies with the runtime
(control socket EOF, or the death signal).
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
import gc
import json
import os
import select
import signal
import socket
import time
import traceback
from typing import Any

PR_SET_PDEATHSIG = 1
READINESS_PATH = "/health/readiness"


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


def prime(config: Any, path: str) -> None:
    """Push one request through the loaded app in-process (lazy imports, first-call paths)."""
    scope: dict[str, Any] = {"type": "http", "asgi": {"version": "3.0"}, "method": "GET"}
    scope.update(scheme="http", path=path, raw_path=path.encode(), query_string=b"")
    scope.update(root_path="", headers=[(b"host", b"127.0.0.1")], http_version="1.1")
    scope.update(client=("127.0.0.1", 1), server=("127.0.0.1", 0))

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


def serve(config: Any, sock: socket.socket) -> int:
    """Serve on ``sock`` until SIGTERM; the process exit code."""
    import uvicorn

    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    return 0 if server.started else 3


def redirect_output(name: str) -> None:
    """Send fds 1 and 2 to ``$BULUT_LOG_DIR/<name>.log`` (bulut logs reads them there)."""
    folder = os.environ.get("BULUT_LOG_DIR")
    if not folder:
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    fd = os.open(os.path.join(folder, f"{name}.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def finish(code: int) -> None:
    """Flush and leave without running the parent's atexit handlers."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


class Zygote:
    """The fork loop: control commands in, fork and exit events out."""

    def __init__(self, control: socket.socket, config: Any) -> None:
        self.control = control
        self.config = config
        self.children: set[int] = set()
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

    def run(self) -> None:
        """Serve fork commands until the runtime goes away."""
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: self.shutdown())
        while True:
            watched: list[Any] = [self.control, self.wake_r]
            readable, _, _ = select.select(watched, [], [])
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

    def drain_wakeups(self) -> None:
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass

    def reap(self) -> None:
        """Collect every exited child and report its exit code."""
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            self.emit(event="exit", pid=pid, code=os.waitstatus_to_exitcode(status))

    def command(self, message: dict[str, Any]) -> None:
        if message.get("cmd") == "fork":
            self.fork(dict(message.get("env") or {}))

    def fork(self, env: dict[str, str]) -> None:
        """Bind and listen, fork a child onto the socket, report pid and port."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(1024)
        port = sock.getsockname()[1]
        zygote_pid = os.getpid()
        pid = os.fork()
        if pid == 0:
            self.become_child(sock, env, port, zygote_pid)
        sock.close()
        self.children.add(pid)
        self.emit(event="forked", pid=pid, port=port)

    def become_child(
        self, sock: socket.socket, env: dict[str, str], port: int, zygote_pid: int
    ) -> None:
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            die_with_parent()
            if os.getppid() != zygote_pid:
                finish(1)
            self.control.close()
            os.close(self.wake_r)
            os.close(self.wake_w)
            os.environ.update(env)
            redirect_output(str(os.getpid()))
            os.environ["PORT"] = str(port)
            os.environ["LISTEN_ADDRESS"] = f"127.0.0.1:{port}"
            code = serve(self.config, sock)
        except BaseException:
            traceback.print_exc()
        finish(code)

    def shutdown(self) -> None:
        """The runtime is gone: stop every child and leave."""
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        finish(0)


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``zygote`` or ``serve`` mode."""
    parser = argparse.ArgumentParser(prog="zygote_host")
    parser.add_argument("mode", choices=["zygote", "serve"])
    parser.add_argument("--project", required=True)
    parser.add_argument("--flavour", default="cloudevents")
    parser.add_argument("--target", default="")
    parser.add_argument("--signature-type", default="cloudevent")
    parser.add_argument("--readiness", default=READINESS_PATH)
    args = parser.parse_args(argv)
    die_with_parent()
    redirect_output("zygote" if args.mode == "zygote" else str(os.getpid()))
    started = time.perf_counter()
    control = None
    if args.mode == "zygote":
        control = socket.socket(fileno=int(os.environ.pop("BULUT_ZYGOTE_FD")))
    try:
        app = build_app(args.project, args.flavour, args.target, args.signature_type)
        config = server_config(app)
        if args.mode == "zygote":
            prime(config, prime_path(args.flavour, args.signature_type, args.readiness))
    except BaseException as error:
        traceback.print_exc()
        if control is not None:
            message = f"{type(error).__name__}: {error}"
            control.sendall(json.dumps({"event": "failed", "message": message}).encode() + b"\n")
        finish(1)
    if control is None:
        sock = socket.socket(fileno=int(os.environ.pop("BULUT_LISTEN_FD")))
        finish(serve(config, sock))
    assert control is not None
    zygote = Zygote(control, config)
    import_ms = (time.perf_counter() - started) * 1000
    zygote.emit(event="ready", pid=os.getpid(), importMs=round(import_ms, 1))
    zygote.run()


if __name__ == "__main__":
    main()
