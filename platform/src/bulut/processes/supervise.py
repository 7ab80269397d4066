"""Local programs run as a kubelet runs containers: spawn, wait, restart with back-off, stop.

What a ContainerSource's Deployment and a JobSink's Job do with their pods, locally:

- :func:`spawn` starts a program in a session of its own (its process group is what
  :func:`stop` signals), with only the few host variables a process needs
  (:func:`base_environment`) under the program's own, its output appended to a log file;
- :func:`stop` sends SIGTERM to the group, then SIGKILL once the grace period passes;
- :func:`run` is one whole run: spawn, wait for the exit code, stop when cancelled;
- :class:`Restarts` counts the restarts of a program that keeps exiting and gives the wait
  before each, by a policy of :mod:`.backoff` (a ContainerSource's: the kubelet's, the one a
  revision's instances follow too; a JobSink run's retries: the Job controller's).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .backoff import KUBELET, BackOff

BASE_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


@dataclass
class Restarts:
    """A crash loop's restart delays under ``policy``; a long enough run starts over."""

    policy: BackOff = KUBELET
    restarts: int = 0

    def next_delay(self, ran_for: float = 0.0) -> float:
        """The wait before starting again after a run of ``ran_for`` seconds (counts it)."""
        if ran_for >= self.policy.reset_after:
            self.restarts = 0
        delay = self.policy.delay(self.restarts)
        self.restarts += 1
        return delay


def base_environment() -> dict[str, str]:
    """The few host variables a process needs to run at all (a pod inherits nothing)."""
    return {key: os.environ[key] for key in BASE_ENVIRONMENT if key in os.environ}


async def spawn(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path
) -> asyncio.subprocess.Process:
    """Start ``argv`` in ``cwd`` in a new session, stdout and stderr appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env={**base_environment(), **env},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )


async def stop(process: asyncio.subprocess.Process, grace: float) -> int:
    """SIGTERM to the process group, SIGKILL after ``grace`` seconds; the exit code."""
    if process.returncode is not None:
        return process.returncode
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return await process.wait()


async def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log: Path,
    grace: float,
    started: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """One run to its end: the exit code. ``started`` is awaited once the process runs; a
    cancelled run stops the process (SIGTERM, SIGKILL after ``grace``) and re-raises."""
    process = await spawn(argv, cwd=cwd, env=env, log=log)
    try:
        if started is not None:
            await started()
        return await process.wait()
    except BaseException:  # cancelled, or ``started`` failed: the process does not outlive it
        await stop(process, grace)
        raise


__all__ = [
    "Restarts",
    "base_environment",
    "run",
    "spawn",
    "stop",
]
