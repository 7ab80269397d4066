"""One task per running source, restarted when its spec changes (what a Deployment's
rollout does for a source's adapter)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Generic, TypeVar

Key = tuple[str, str]
Spec = TypeVar("Spec")


class SourceTasks(Generic[Spec]):
    """Running sources by (namespace, name): their specs and tasks."""

    def __init__(self, kind: str, run: Callable[[Spec], Coroutine[Any, Any, None]]) -> None:
        self.kind = kind
        self._run = run
        self.specs: dict[Key, Spec] = {}
        self._tasks: dict[Key, asyncio.Task[None]] = {}

    def apply(self, key: Key, spec: Spec) -> bool:
        """Start a source, or restart it when its spec changed; False when nothing changed."""
        if self.specs.get(key) == spec and key in self._tasks:
            return False
        self.remove(key)
        self.specs[key] = spec
        self._tasks[key] = asyncio.create_task(self._run(spec), name=f"{self.kind} {key}")
        return True

    def remove(self, key: Key) -> None:
        """Stop a source (its task is cancelled; it cleans up in the background)."""
        self.specs.pop(key, None)
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()

    def running(self) -> Iterator[tuple[Key, Spec]]:
        """The sources whose task runs."""
        return ((key, spec) for key, spec in list(self.specs.items()) if key in self._tasks)

    async def aclose(self) -> None:
        """Stop every source and wait for each to finish cleaning up."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        self.specs.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
