"""Seeds, with real processes: a new revision's zygote forks from its environment's seed,
imports the new code with the revision's env, and starts fresh when there is no seed."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bulut.serving.launcher import Launcher
from bulut.serving.seeds import Seed, Seeds
from bulut.serving.zygote import Workload, Zygote
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

# The new revision's code: it reads its env and records who imported it, at import time.
NEW_CODE = """
import os

GREETING = os.environ.get("GREETING", "unset").encode()
with open(os.environ["IMPORTED_BY"], "a") as record:
    record.write(f"{os.getpid()}\\n")


def new():
    return Function()


class Function:
    async def handle(self, scope, receive, send):
        length = str(len(GREETING)).encode()
        headers = [(b"content-type", b"text/plain"), (b"content-length", length)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": GREETING})
"""


@pytest.fixture
def first(build_function: Callable[[str], Any]) -> Workload:
    project, environment = build_function("hello")
    return Workload.of(project, environment, readiness_path="/health/readiness")


@pytest.fixture
def edited(first: Workload, tmp_path: Path) -> Workload:
    """The same function with new code, in the same environment (a save under --watch)."""
    folder = tmp_path / "hello-v2"
    shutil.copytree(first.project, folder)
    (folder / "function" / "func.py").write_text(NEW_CODE)
    return dataclasses.replace(first, project=folder)


@pytest.fixture
async def seeds(first: Workload, tmp_path: Path) -> AsyncIterator[Seeds]:
    """Seeds with one planted for the hello function's environment, ready."""
    planted = Seeds()
    planted.plant(first)
    await eventually(lambda: planted.ready_for(first), "the seed to start")
    yield planted
    await planted.aclose()


async def get(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer.split(b"\r\n\r\n", 1)[1]


async def test_a_new_revisions_zygote_forks_from_the_seed_and_imports_the_new_code_with_its_env(
    seeds: Seeds, edited: Workload, tmp_path: Path
) -> None:
    imported_by = tmp_path / "imported-by"
    seed = seeds.ready_for(edited)
    assert seed is not None
    env = {"GREETING": "hello from v2", "IMPORTED_BY": str(imported_by)}
    zygote = Zygote(edited, env, tmp_path)

    await zygote.start(timeout=60, seed=seed)
    try:
        child = await zygote.fork()
        assert await get(child.port) == b"hello from v2"
    finally:
        await zygote.close()

    assert zygote.seeded
    assert zygote.pid not in (None, seed.process.pid)
    # Only the zygote imported the function: not the seed, and not each instance.
    assert imported_by.read_text().split() == [str(zygote.pid)]


async def test_a_zygote_whose_seed_died_starts_as_a_fresh_process(
    seeds: Seeds, first: Workload, tmp_path: Path
) -> None:
    seed = seeds.ready_for(first)
    assert seed is not None
    seed.process.kill()
    await seed.process.wait()
    zygote = Zygote(first, {}, tmp_path)

    await zygote.start(timeout=60, seed=seed)
    try:
        child = await zygote.fork()
        assert await get(child.port) == b"OK"
    finally:
        await zygote.close()

    assert not zygote.seeded
    assert seeds.ready_for(first) is None  # a dead seed is not offered again


async def test_the_first_revision_plants_the_seed_the_next_one_forks_from(
    first: Workload, edited: Workload, tmp_path: Path
) -> None:
    seeds = Seeds()
    env = {"IMPORTED_BY": str(tmp_path / "imported-by")}
    launchers = [Launcher(first, {}, tmp_path, seeds=seeds)]
    try:
        launchers[0].start()
        assert await launchers[0].zygote() is not None
        assert launchers[0].facts is not None and launchers[0].facts["seeded"] is False

        seed: Seed = await eventually(lambda: seeds.ready_for(edited), "the seed to start")
        launchers.append(Launcher(edited, env, tmp_path, seeds=seeds))
        launchers[1].start()
        second = await launchers[1].zygote()

        assert second is not None and second.seeded
        assert launchers[1].facts is not None and launchers[1].facts["seeded"] is True
        assert os.getpgid(second.pid or 0) != os.getpgid(seed.process.pid)  # its own session
    finally:
        for launcher in launchers:
            await launcher.aclose()
        await seeds.aclose()


async def test_seeds_can_be_turned_off(first: Workload) -> None:
    seeds = Seeds(enabled=False)

    seeds.plant(first)

    assert seeds.ready_for(first) is None
    await seeds.aclose()
