"""The launcher: how a revision gets a new instance (fork of its zygote, else a fresh spawn).

It keeps the revision's zygote (starts it, restarts it when it dies) and says how each
instance was made, so cold starts are reported as ``fork`` or ``spawn``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bulut.errors import InstanceError
from bulut.serving.memory import memory_of
from bulut.serving.zygote import Child, Workload, Zygote, spawn

logger = logging.getLogger(__name__)


def to_mib(size: int) -> int:
    """``size`` rounded to whole MiB (reports change when memory does, not every page)."""
    return round(size / 2**20) * 2**20


class Launcher:
    """Forks instances from the revision's zygote; spawns them when there is none."""

    def __init__(
        self,
        workload: Workload,
        env: Mapping[str, str],
        cwd: Path,
        *,
        use_zygote: bool = True,
        start_timeout: float = 600.0,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.workload = workload
        self.env = dict(env)
        self.cwd = cwd
        self.use_zygote = use_zygote
        self.start_timeout = start_timeout
        self.facts: dict[str, Any] | None = None
        self._on_change = on_change
        self._zygote: Zygote | None = None
        self._task: asyncio.Task[Zygote | None] | None = None
        self._closed = False

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
        zygote = Zygote(self.workload, self.env, self.cwd)
        try:
            await zygote.start(timeout=self.start_timeout)
        except (InstanceError, TimeoutError) as error:
            logger.warning("no zygote for %s (%s); spawning fresh", self.workload.project, error)
            self.facts = {"pid": None, "error": str(error)}
            self._on_change()
            return None
        self._zygote = zygote
        self.refresh()
        self._on_change()
        return zygote

    def refresh(self) -> None:
        """Re-read the zygote's memory (RSS, PSS, USS)."""
        if self._zygote is not None and self._zygote.pid is not None:
            memory = memory_of(self._zygote.pid)
            self.facts = {
                "pid": self._zygote.pid,
                "importMs": self._zygote.import_ms,
                "rssBytes": to_mib(memory.rss),
                "pssBytes": to_mib(memory.pss),
                "ussBytes": to_mib(memory.uss),
            }

    async def launch(self) -> tuple[Child, str]:
        """A new instance process and how it was made (``fork`` or ``spawn``)."""
        zygote = await self.zygote()
        if zygote is not None and zygote.alive:
            return await zygote.fork(), "fork"
        if zygote is not None and not self._closed:  # it died: start another, spawn meanwhile
            self._zygote = None
            self._task = asyncio.get_running_loop().create_task(self._start_zygote())
        return await spawn(self.workload, self.env, self.cwd), "spawn"

    async def aclose(self) -> None:
        """Stop the zygote (its children die with it)."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._zygote is not None:
            await self._zygote.close()
