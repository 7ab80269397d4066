"""bench_broker's paced section tells a generator that fell behind from a slow server."""

from __future__ import annotations

import asyncio
import time

from bench.bench_broker import PACED_SLACK, paced, paced_verdict


def test_a_run_within_the_slack_is_valid_and_one_beyond_it_says_why() -> None:
    assert paced_verdict(0.0) is None
    assert paced_verdict(PACED_SLACK) is None
    verdict = paced_verdict(0.25)
    assert verdict is not None
    assert verdict.startswith("not measured: the load generator fell 250 ms behind")


async def test_a_generator_that_cannot_keep_its_schedule_reports_how_late_it_was() -> None:
    async def blocking_send(_: int) -> int:
        deadline = time.perf_counter() + 0.002  # holds the loop: 500 requests/s at most
        while time.perf_counter() < deadline:
            pass
        return 202

    latencies, behind = await paced(blocking_send, rate=5000, seconds=0.05)
    assert len(latencies) == 250
    assert behind > 0.2  # 250 requests of 2 ms each, scheduled within 50 ms
    assert paced_verdict(behind) is not None


async def test_requests_a_slow_server_makes_wait_are_charged_from_when_they_were_due() -> None:
    async def slow_send(_: int) -> int:
        await asyncio.sleep(0.01)  # the server takes 10 ms; two connections carry 200/s
        return 202

    latencies, behind = await paced(slow_send, rate=1000, seconds=0.05, connections=2)
    assert len(latencies) == 50
    assert latencies[-1] > 0.15  # the last was due at 49 ms and sent after ~240 ms
    assert paced_verdict(behind) is None  # the generator kept its schedule: the server did not
