"""Seeds: one process per function environment that zygotes fork from (ADR 0014).

A revision's zygote used to start as a fresh interpreter that imports the server, the
runtime library (func-python pulls in hypercorn and h2) and then the function: on the
2-core box most of a new revision's start is spent before the function's first line. A
seed (``zygote_host.py seed``, run by the function's own Python) has imported everything
but the function; a new revision's zygote is a fork of it that imports only the function.
That is what a save under ``--watch`` or a push makes: a new revision of code whose
environment is already running.

A seed starts after the first zygote of its environment is ready (never beside it, so it
never slows the first start), imports no user code and reads no revision's env: the child
takes the revision's env, working directory and fds before it imports the function.
A seed that is not ready or has died is simply not used: the zygote starts as a fresh
interpreter, as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bulut.errors import InstanceError

from .zygote import HOST_PROGRAM, Workload, base_environment

logger = logging.getLogger(__name__)

SeedKey = tuple[str, str]  # (the environment's python, the flavour)


def seed_key(workload: Workload) -> SeedKey:
    """Zygotes of workloads with the same key can fork from the same seed."""
    return (str(workload.python), workload.flavour)


@dataclass
class Seed:
    """One running seed process and its request socket."""

    key: SeedKey
    process: asyncio.subprocess.Process
    requests: socket.socket = field(repr=False)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def alive(self) -> bool:
        return self.process.returncode is None and self.requests.fileno() >= 0

    async def fork(
        self, argv: Sequence[str], env: Mapping[str, str], cwd: Path, fds: Sequence[int]
    ) -> int:
        """A zygote forked from this seed (``argv`` without the program); its pid."""
        request = json.dumps({"argv": list(argv), "env": dict(env), "cwd": str(cwd)}).encode()
        loop = asyncio.get_running_loop()
        async with self.lock:
            try:
                socket.send_fds(self.requests, [request], fds)  # one small datagram
                answer = await loop.sock_recv(self.requests, 4096)
            except OSError as error:
                raise InstanceError(f"seed {self.key[1]} is gone: {error}") from error
        if not answer:
            raise InstanceError(f"seed {self.key[1]} is gone")
        return int(json.loads(answer)["pid"])

    async def close(self) -> None:
        self.requests.close()  # EOF: the seed exits; its zygotes live on with the runtime
        if self.process.returncode is None:
            try:
                await asyncio.wait_for(self.process.wait(), 5.0)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


class Seeds:
    """The seeds of a data plane, by environment; started on demand, closed with it."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._seeds: dict[SeedKey, Seed] = {}
        self._starting: dict[SeedKey, asyncio.Task[None]] = {}

    def ready_for(self, workload: Workload) -> Seed | None:
        """The running seed a zygote of ``workload`` can fork from, if there is one."""
        seed = self._seeds.get(seed_key(workload))
        if seed is not None and not seed.alive:
            del self._seeds[seed.key]
            return None
        return seed

    def plant(self, workload: Workload) -> None:
        """Start a seed for ``workload``'s environment in the background (once)."""
        key = seed_key(workload)
        if not self.enabled or key in self._seeds or key in self._starting:
            return
        task = asyncio.get_running_loop().create_task(self._start(key))
        self._starting[key] = task
        task.add_done_callback(lambda _task: self._starting.pop(key, None))

    async def _start(self, key: SeedKey) -> None:
        python, flavour = key
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            process = await asyncio.create_subprocess_exec(
                python,
                str(HOST_PROGRAM),
                "seed",
                "--flavour",
                flavour,
                pass_fds=[theirs.fileno()],
                env={**base_environment(), "BULUT_SEED_FD": str(theirs.fileno())},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as error:
            ours.close()
            logger.warning("no seed for %s: %s", python, error)
            return
        finally:
            theirs.close()
        ours.setblocking(False)
        self._seeds[key] = Seed(key, process, ours)

    async def aclose(self) -> None:
        """Stop every seed (zygotes forked from them are the revisions' to stop)."""
        for task in list(self._starting.values()):
            task.cancel()
        await asyncio.gather(*self._starting.values(), return_exceptions=True)
        seeds, self._seeds = list(self._seeds.values()), {}
        await asyncio.gather(*(seed.close() for seed in seeds), return_exceptions=True)
