"""Scale ceilings on real processes (issue #20, item 1): a revision with
``initial-scale: "100000"`` forked until control-plane calls took 9 s and the process
wedged; deleting it did not stop the queued forks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bulut.settings import Settings
from tests.support.serving import (
    revision,
    route,
    start_data_plane,
    stop_data_plane,
)

pytestmark = pytest.mark.integration

HUGE = {"autoscaling.knative.dev/initial-scale": "100000"}


async def test_a_revisions_instances_stop_at_the_ceilings(
    tmp_path: Path, fixture_functions: Path, builds_dir: Path, build_function: Any
) -> None:
    build_function("echo")
    settings = Settings(max_scale=3, max_instances=5)
    plane = await start_data_plane(tmp_path, fixture_functions, builds_dir, settings=settings)
    try:
        for name in ("echo", "other"):
            plane.feed.put(revision(name, function="echo", annotations=HUGE))
            plane.feed.put(route(name, [(f"{name}-00001", 100, "")]))
            await plane.wait_built(f"{name}-00001")
        first = plane.serving.revisions[("default", "echo-00001")]
        second = plane.serving.revisions[("default", "other-00001")]
        await plane.wait_for(
            lambda: first.ready_instances() + second.ready_instances() == 5, "five instances"
        )
        assert first.autoscaler.spec.initial_scale == 3
        assert max(first.instance_count(), second.instance_count()) == 3
        assert plane.serving.budget.used == 5  # the platform's ceiling
        assert first._queued == 0 and second._queued == 0  # nothing left waiting
    finally:
        await stop_data_plane(plane)


async def test_a_scale_down_wins_over_launches_still_waiting(
    tmp_path: Path, fixture_functions: Path, builds_dir: Path, build_function: Any
) -> None:
    build_function("echo")
    plane = await start_data_plane(tmp_path, fixture_functions, builds_dir)
    try:
        plane.feed.put(revision("echo", annotations={"autoscaling.knative.dev/initial-scale": "1"}))
        await plane.wait_built("echo-00001")
        runtime = plane.serving.revisions[("default", "echo-00001")]
        await plane.wait_for(lambda: runtime.ready_instances() == 1, "one instance")
        await runtime.scale_to(60)
        await runtime.scale_to(1)  # before most of the 59 launches had their turn
        await plane.wait_for(lambda: runtime._queued == 0, "the queue drained")
        started = sum(runtime.facts.cold_starts.values())
        assert started <= 1 + 4 + 4, runtime.facts.cold_starts  # at most two turns ran
        await plane.wait_for(lambda: runtime.instance_count() == 1, "back to one")
    finally:
        await stop_data_plane(plane)
