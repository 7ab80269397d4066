"""bulut.processes.supervise: programs as a kubelet runs them (back-off, runs, signals)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from bulut.processes import supervise as processes
from bulut.processes.backoff import JOB_CONTROLLER, KUBELET
from bulut.processes.supervise import Restarts
from tests.support.waiting import eventually


def test_the_kubelets_crash_loop_restarts_at_once_then_waits_double_from_10_s_to_5_min() -> None:
    backoff = Restarts(KUBELET)
    waits = [backoff.next_delay() for _ in range(8)]
    assert waits == [0.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0]


def test_ten_minutes_of_running_resets_the_back_off() -> None:
    backoff = Restarts(KUBELET)
    for _ in range(4):
        backoff.next_delay(ran_for=1.0)
    assert backoff.next_delay(ran_for=600.0) == 0.0
    assert backoff.next_delay(ran_for=1.0) == 10.0


def test_the_job_controller_waits_before_its_first_retry_caps_at_6_minutes_never_resets() -> None:
    backoff = Restarts(JOB_CONTROLLER)
    waits = [backoff.next_delay(ran_for=3600.0) for _ in range(7)]
    assert waits == [10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 360.0]


def test_the_delay_of_a_huge_restart_count_is_the_cap() -> None:
    assert KUBELET.delay(10_000) == 300.0
    assert JOB_CONTROLLER.delay(10_000) == 360.0


async def test_a_run_gives_the_exit_code_and_appends_its_output_to_the_log(
    tmp_path: Path,
) -> None:
    log = tmp_path / "logs" / "job.log"
    argv = [sys.executable, "-c", "import os, sys; print(os.environ['GREETING']); sys.exit(3)"]
    code = await processes.run(argv, cwd=tmp_path, env={"GREETING": "hello"}, log=log, grace=1)
    again = await processes.run(argv, cwd=tmp_path, env={"GREETING": "again"}, log=log, grace=1)
    assert (code, again) == (3, 3)
    assert log.read_text().split() == ["hello", "again"]


async def test_the_program_sees_only_the_base_environment_and_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULUT_SECRET_TOKEN", "leaked")
    log = tmp_path / "env.log"
    argv = [sys.executable, "-c", "import os; print(sorted(os.environ))"]
    await processes.run(argv, cwd=tmp_path, env={"K_SINK": "http://x"}, log=log, grace=1)
    names = log.read_text()
    assert "K_SINK" in names and "PATH" in names and "BULUT_SECRET_TOKEN" not in names


async def test_a_cancelled_run_kills_a_program_that_ignores_sigterm(tmp_path: Path) -> None:
    script = (
        "import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print(os.getpid(), flush=True); time.sleep(60)"
    )
    log = tmp_path / "stubborn.log"
    argv = [sys.executable, "-c", script]
    task = asyncio.create_task(processes.run(argv, cwd=tmp_path, env={}, log=log, grace=0.2))
    pid = int(await eventually(lambda: log.exists() and log.read_text().strip(), "its pid"))
    task.cancel()  # SIGTERM is ignored by now: SIGKILL after the grace
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not Path(f"/proc/{pid}").exists()


async def test_stop_signals_the_whole_process_group(tmp_path: Path) -> None:
    child = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        f"open({str(child)!r}, 'w').write(str(p.pid)); time.sleep(60)"
    )
    argv = [sys.executable, "-c", script]
    process = await processes.spawn(argv, cwd=tmp_path, env={}, log=tmp_path / "group.log")
    pid = int(await eventually(lambda: child.exists() and child.read_text(), "the child's pid"))

    code = await processes.stop(process, grace=5)

    assert code == -signal.SIGTERM
    await eventually(lambda: _ended(pid), f"the program's child {pid} to end with the group")


def _ended(pid: int) -> bool:
    """Gone, or a zombie (its parent ended without reaping it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
