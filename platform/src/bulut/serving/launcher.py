"""The launcher: how a revision gets a new instance (its zygote's pool, a fork, a spawn).

It keeps the revision's zygote (starts it, restarts it when it dies) and says how each
instance was made, so cold starts are reported by source: ``pool`` (a child the zygote
forked ahead of need), ``fork`` (forked on demand) or ``spawn`` (a fresh process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

from bulut.errors import InstanceError
from bulut.serving.memory import Memory, memory_of
from bulut.serving.seeds import Seeds
from bulut.serving.status import GAUGE_SECONDS
from bulut.serving.zygote import FORK, POOL, SPAWN, Child, Workload, Zygote, spawn

logger = logging.getLogger(__name__)

POOL_SIZE = 1  # parked children per zygote
# Seconds between reads of a zygote's (and its pool's) memory: the pace a report of memory
# alone goes out at (metrics-server's resolution, ADR 0029), so no read goes unreported.
MEMORY_INTERVAL = GAUGE_SECONDS


def to_mib(size: int) -> int:
    """``size`` rounded to whole MiB (reports change when memory does, not every page)."""
    return round(size / 2**20) * 2**20


def memory_facts(memory: Memory) -> dict[str, int]:
    """RSS, PSS and USS as reported (whole MiB)."""
    return {
        "rssBytes": to_mib(memory.rss),
        "pssBytes": to_mib(memory.pss),
        "ussBytes": to_mib(memory.uss),
    }


class StartQueue:
    """How many zygotes import at once: one per CPU, and demand goes first.

    When `bulut up` starts (or starts again after a restore), every revision starts its
    zygote together; five function imports sharing two cores each take several times
    longer, and a request waiting for one function waits for all five. So starts run at
    most ``slots`` at a time, and a revision a request waits for (``urgent``) never
    queues: while it imports, the zygotes of revisions nobody waits for are paused
    (SIGSTOP) and resumed (SIGCONT) once it is primed, so it has the CPUs to itself.
    """

    def __init__(self, slots: int = 0) -> None:
        self.slots = slots if slots > 0 else (os.cpu_count() or 1)
        self.running = 0
        self._waiting: list[tuple[Launcher, asyncio.Future[None]]] = []
        self._active: dict[Launcher, Zygote] = {}
        self._urgent: set[Launcher] = set()
        self._paused: set[int] = set()

    @property
    def waiting(self) -> int:
        """Zygote starts waiting for a slot."""
        return len(self._waiting)

    @property
    def paused(self) -> frozenset[int]:
        """Pids of zygotes paused for an urgent start."""
        return frozenset(self._paused)

    @contextlib.asynccontextmanager
    async def turn(self, launcher: Launcher, zygote: Zygote) -> AsyncIterator[None]:
        """Hold a slot while ``zygote`` (``launcher``'s) imports and primes."""
        free = self.running < self.slots and not self._waiting and not self._urgent
        if launcher.urgent or free:
            self.running += 1
        else:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append((launcher, future))
            try:
                await future  # the slot is handed over, already counted
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    self.running -= 1
                    self._grant()
                else:
                    self._waiting = [w for w in self._waiting if w[1] is not future]
                raise
        self._active[launcher] = zygote
        if launcher.urgent:
            self._make_urgent(launcher)
        try:
            yield
        finally:
            self._leave(launcher)

    def hurry(self, launcher: Launcher) -> None:
        """``launcher`` became urgent: it starts now, or gets the CPUs if it runs."""
        if launcher in self._active:
            self._make_urgent(launcher)
            return
        for waiting in self._waiting:
            if waiting[0] is launcher and not waiting[1].done():
                self._waiting.remove(waiting)
                self.running += 1
                waiting[1].set_result(None)
                return

    def _make_urgent(self, launcher: Launcher) -> None:
        self._urgent.add(launcher)
        own = self._active[launcher].process_pid
        if own is not None and own in self._paused:
            self._signal(own, signal.SIGCONT)
            self._paused.discard(own)
        for other, zygote in self._active.items():
            pid = zygote.process_pid
            if other not in self._urgent and pid is not None and pid not in self._paused:
                self._signal(pid, signal.SIGSTOP)
                self._paused.add(pid)

    def _leave(self, launcher: Launcher) -> None:
        self._active.pop(launcher, None)
        self._urgent.discard(launcher)
        self.running -= 1
        if not self._urgent:
            for pid in self._paused:
                self._signal(pid, signal.SIGCONT)
            self._paused.clear()
        self._grant()

    def _grant(self) -> None:
        while self._waiting:
            chosen = next((w for w in self._waiting if w[0].urgent), self._waiting[0])
            if not chosen[0].urgent and (self.running >= self.slots or self._urgent):
                return
            self._waiting.remove(chosen)
            if not chosen[1].done():
                self.running += 1
                chosen[1].set_result(None)

    @staticmethod
    def _signal(pid: int, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


class Launcher:
    """Takes instances from the revision's zygote (pool, else fork); spawns without one.

    ``pool_source`` is the cold-start source a pooled child is reported as: ``pool``, or
    ``fork`` for a caller that counts only ``fork`` and ``spawn`` (a pooled child is a
    fork of the zygote, made earlier).
    """

    def __init__(
        self,
        workload: Workload,
        env: Mapping[str, str],
        cwd: Path,
        *,
        use_zygote: bool = True,
        pool_size: int = POOL_SIZE,
        pool_source: str = FORK,
        start_timeout: float = 600.0,
        on_change: Callable[[], None] = lambda: None,
        start_queue: StartQueue | None = None,
        seeds: Seeds | None = None,
    ) -> None:
        self.workload = workload
        self.env = dict(env)
        self.cwd = cwd
        self.use_zygote = use_zygote
        self.pool_size = pool_size
        self.pool_source = pool_source
        self.start_timeout = start_timeout
        self.facts: dict[str, Any] | None = None
        self._on_change = on_change
        self.start_queue = start_queue
        self.seeds = seeds
        self.urgent = False  # a request is waiting for this revision's first instance (wanted())
        self._zygote: Zygote | None = None
        self._task: asyncio.Task[Zygote | None] | None = None
        self._closed = False
        self._memory: dict[int, Memory] = {}  # by pid, as last read (refresh)
        self._memory_read = -math.inf  # monotonic time of that read
        self._reading: asyncio.Task[None] | None = None

    def wanted(self) -> None:
        """A request waits for this revision: its zygote starts without queueing."""
        if not self.urgent:
            self.urgent = True
            if self.start_queue is not None:
                self.start_queue.hurry(self)

    def start(self) -> None:
        """Start the zygote in the background (instances wait for it, or spawn)."""
        if self.use_zygote:
            self._task = asyncio.get_running_loop().create_task(self._start_zygote())

    async def zygote(self) -> Zygote | None:
        """The running zygote once it is primed; None when there is none."""
        if self._task is None:
            return None
        return await asyncio.shield(self._task)

    async def _start_zygote(self) -> Zygote | None:
        zygote = Zygote(
            self.workload,
            self.env,
            self.cwd,
            pool_size=self.pool_size,
            on_pool_change=self._on_change,
        )
        queue = self.start_queue
        try:
            seed = self.seeds.ready_for(self.workload) if self.seeds is not None else None
            async with queue.turn(self, zygote) if queue is not None else contextlib.nullcontext():
                await zygote.start(timeout=self.start_timeout, seed=seed)
        except (InstanceError, TimeoutError) as error:
            logger.warning("no zygote for %s (%s); spawning fresh", self.workload.project, error)
            self.facts = {"pid": None, "error": str(error)}
            self._on_change()
            return None
        except asyncio.CancelledError:
            # The revision closed (or was replaced) while its zygote imported: stop that
            # process too, or it lives on beside the replacement's until shutdown.
            await zygote.close()
            raise
        self._zygote = zygote
        if self.seeds is not None:  # the next revision of this environment forks from it
            self.seeds.plant(self.workload)
        self.refresh()
        self._on_change()
        return zygote

    def refresh(self) -> None:
        """Re-read what is reported of the zygote and of its parked children, memory (RSS,
        PSS, USS) as last read.

        Parked children are processes too: their memory is reported beside the zygote's
        (``pool``), never folded into it or left out. Memory is read from
        ``/proc/<pid>/smaps_rollup``, which costs the kernel a walk of the process's page
        tables (≈ 1-2 ms for a zygote): it is read on a thread, at most every
        ``MEMORY_INTERVAL``, and reported once read, so that a report never holds the event
        loop, and with it a cold start, while the kernel walks five zygotes and their pools
        (ADR 0023).
        """
        zygote = self._zygote
        if zygote is not None and zygote.pid is not None:
            parked = sorted(zygote.parked)
            self._read_memory_soon([zygote.pid, *parked])
            pool = Memory()
            for pid in parked:
                pool = pool + self._memory.get(pid, Memory())
            self.facts = {
                "pid": zygote.pid,
                "importMs": zygote.import_ms,
                "seeded": zygote.seeded,
                **memory_facts(self._memory.get(zygote.pid, Memory())),
                "pool": {"size": zygote.pool_size, "parked": parked, **memory_facts(pool)},
            }

    def _read_memory_soon(self, pids: list[int]) -> None:
        """Read the memory of ``pids`` on a thread, unless it was read lately (or is being):
        a child parked since then is reported at the next read, not at once (the pool
        changes on a take, when a cold start wants the CPU)."""
        if self._reading is not None or self._closed:
            return
        if time.monotonic() - self._memory_read < MEMORY_INTERVAL:
            return
        self._reading = asyncio.get_running_loop().create_task(self._read_memory(pids))

    async def _read_memory(self, pids: list[int]) -> None:
        try:
            read = await asyncio.to_thread(lambda: {pid: memory_of(pid) for pid in pids})
        finally:
            if self._reading is asyncio.current_task():
                self._reading = None
        self._memory, self._memory_read = read, time.monotonic()
        self.refresh()
        self._on_change()  # reported with its memory now

    def can_take(self) -> bool:
        """Whether :meth:`take` would find a parked child now."""
        zygote = self._zygote
        return zygote is not None and zygote.alive and bool(zygote.parked)

    def take(self) -> tuple[Child, str] | None:
        """A parked child of the running zygote, taken now (no await), and its source
        (``pool_source``); None when there is none: :meth:`launch` then forks or spawns."""
        zygote = self._zygote
        if zygote is None or not zygote.alive:
            return None
        child = zygote.take()
        return None if child is None else (child, self.pool_source)

    async def launch(self) -> tuple[Child, str]:
        """A new instance process and how it was made (``pool_source``, fork or spawn).

        After :meth:`release` the first launch starts the zygote again (from the seed of its
        environment when one is planted: ~0.2 s) and forks from it.
        """
        if self._task is None and self.use_zygote and not self._closed:
            self.start()
        zygote = await self.zygote()
        if zygote is not None and zygote.alive:
            child = await zygote.fork()
            return child, self.pool_source if child.source == POOL else FORK
        if zygote is not None and not self._closed:  # it died: start another, spawn meanwhile
            self._zygote = None
            self._task = asyncio.get_running_loop().create_task(self._start_zygote())
        return await spawn(self.workload, self.env, self.cwd), SPAWN

    @property
    def holds_zygote(self) -> bool:
        """Whether a zygote runs or starts (False after :meth:`release`)."""
        return self._task is not None

    async def release(self) -> None:
        """Stop the zygote and its parked children until an instance is wanted again.

        For a revision no route sends traffic to: its instances are gone (they would die
        with the zygote), and the memory of an import nothing uses goes back to the machine.
        """
        task, zygote = self._task, self._zygote
        if task is None:
            return
        self._task, self._zygote, self.facts, self.urgent = None, None, None, False
        self._stop_reading()
        self._on_change()  # reported gone now, not once the process has been waited for
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if zygote is not None:
            await zygote.close()
        self._on_change()

    def _stop_reading(self) -> None:
        reading, self._reading = self._reading, None
        if reading is not None:
            reading.cancel()
        self._memory, self._memory_read = {}, -math.inf

    async def aclose(self) -> None:
        """Stop the zygote (its children, parked or not, die with it)."""
        self._closed = True
        self._stop_reading()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._zygote is not None:
            await self._zygote.close()
