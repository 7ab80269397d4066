"""The WAL's fsyncs, done by a helper process so that their completions need no GIL.

The group commit (:mod:`.log`) writes a group on the event loop and has the WAL file
fsync'd before the group's 202s are written. Done in a thread of the broker's own
process, every fsync paid two GIL hand-offs: the thread took the GIL to leave its queue
and again to call back into the loop, and on a loop busy with requests each hand-off
waits up to Python's switch interval (5 ms), which the broker's tail showed at a paced
5,000 events/s (docs/adr/0022-wal-fsyncs-in-a-helper-process.md).

Here the loop sends a group's number over a ``SOCK_SEQPACKET`` socket pair to a helper
process, which fsyncs the WAL file (opened by path: an fsync makes the file's data
durable whichever process asks) and sends the number back with its errno; the loop
learns it from the socket's readiness, like any other I/O. The helper imports nothing
but the standard library (it starts in tens of milliseconds), runs ``threads`` fsyncs
at once, and exits when the socket closes, so a ``kill -9`` of the broker ends it too.
If the helper dies, the groups it held fail (their senders get 500, as for any fsync
error) and the next group starts a new helper.

Run by path, not imported: ``python -I -S walsync.py FD WAL_PATH THREADS``.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

# fdatasync where the OS has it (SQLite syncs its WAL the same way): the WAL is rewritten
# in place after each checkpoint, so its metadata (mtime) need not reach the journal
_SYNC: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)
_JOB = struct.Struct("=Q")  # the group's number
_DONE = struct.Struct("=Qi")  # the group's number, 0 or the fsync's errno
HELPER_EXITED = "the event log's fsync helper exited"

Synced = Callable[[Any, OSError | None], None]
"""``done(token, error)``: called on the loop once the WAL is durable (``None``) or not."""


class WalSyncer:
    """The loop's side: ``submit`` a token, get ``done(token, error)`` back on the loop."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, wal: str, threads: int, done: Synced
    ) -> None:
        self.loop = loop
        self.wal = wal
        self.threads = threads
        self.done = done
        self._next = 0
        self._pending: dict[int, Any] = {}
        self._socket: socket.socket | None = None
        self._helper: subprocess.Popen[bytes] | None = None

    @property
    def helper_pid(self) -> int | None:
        """The helper process's pid (None before :meth:`start` or after it was lost)."""
        return self._helper.pid if self._helper is not None else None

    @property
    def pending(self) -> int:
        """Groups sent to the helper and not answered yet."""
        return len(self._pending)

    def start(self) -> None:
        """Start the helper process (the WAL file need not exist yet)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            command = [sys.executable, "-I", "-S", __file__, str(theirs.fileno()), self.wal,
                       str(self.threads)]  # fmt: skip
            self._helper = subprocess.Popen(  # stderr kept: a crash of the helper is seen
                command, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        self._socket = ours
        self.loop.add_reader(ours.fileno(), self._readable)

    def submit(self, token: Any) -> None:
        """fsync the WAL (covering every commit made so far), then ``done(token, error)``."""
        if self._socket is None:
            self.start()
        assert self._socket is not None
        self._next += 1
        self._pending[self._next] = token
        try:
            self._socket.send(_JOB.pack(self._next))
        except OSError as error:  # the helper is gone: this group and those it held fail
            self._lost(error)

    def _readable(self) -> None:
        sock = self._socket
        while sock is not None:
            try:
                message = sock.recv(_DONE.size)
            except BlockingIOError:
                return
            except OSError as error:
                self._lost(error)
                return
            if not message:  # EOF: the helper exited
                self._lost(OSError(HELPER_EXITED))
                return
            number, errno = _DONE.unpack(message)
            token = self._pending.pop(number, None)
            if token is not None:
                self.done(token, OSError(errno, os.strerror(errno)) if errno else None)

    def _lost(self, error: OSError) -> None:
        """The helper is gone: fail what it held; the next submission starts another."""
        self._close_socket()
        if self._helper is not None:
            self._helper.kill()
            self._helper.wait()
            self._helper = None
        pending, self._pending = self._pending, {}
        for token in pending.values():
            self.done(token, error)

    def _close_socket(self) -> None:
        if self._socket is not None:
            self.loop.remove_reader(self._socket.fileno())
            self._socket.close()
            self._socket = None

    def close(self) -> None:
        """Stop the helper (once nothing is pending: the caller waits for that)."""
        self._close_socket()  # the helper reads EOF and exits
        if self._helper is not None:
            try:
                self._helper.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._helper.kill()
                self._helper.wait()
            self._helper = None


def _serve(sock: socket.socket, wal: str, lock: threading.Lock, fds: list[int]) -> None:
    """One helper thread: take a group number, fsync, answer; until the socket closes."""
    while True:
        try:
            message = sock.recv(_JOB.size)
        except OSError:
            return
        if not message:
            return
        (number,) = _JOB.unpack(message)
        errno = 0
        try:
            with lock:  # the WAL is opened once, by whichever thread comes first
                if not fds:
                    fds.append(os.open(wal, os.O_RDONLY))
            _SYNC(fds[0])
        except OSError as error:
            errno = error.errno or 5  # EIO when the OS gave none
        try:
            sock.send(_DONE.pack(number, errno))
        except OSError:
            return


def main(argv: list[str]) -> None:
    """The helper: ``FD WAL_PATH THREADS``."""
    sock = socket.socket(fileno=int(argv[0]))
    lock = threading.Lock()
    fds: list[int] = []
    workers = [
        threading.Thread(target=_serve, args=(sock, argv[1], lock, fds), daemon=True)
        for _ in range(int(argv[2]))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main(sys.argv[1:])
