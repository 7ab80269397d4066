"""bench_dataplane's summary: each round against its own direct baseline, the floor beside."""

from __future__ import annotations

from typing import Any

from bench.bench_dataplane import summarise


def leg(rps: float, p50_us: float, cpu_s: float = 0.0) -> dict[str, Any]:
    return {"rps": rps, "p50_us": p50_us, "p99_us": 2 * p50_us, "router_cpu_s": cpu_s}


def test_the_floor_is_reported_as_its_own_ratio_added_latency_and_cpu_per_request() -> None:
    rounds = [
        {
            "direct1": leg(8000, 100),
            "routed1": leg(4000, 220),
            "floor1": leg(6000, 150),
            "direct64": leg(10000, 5000),
            "routed64": leg(6000, 9000, cpu_s=1.2),  # 2 s: 12,000 requests
            "floor64": leg(9000, 6000, cpu_s=0.54),  # 18,000 requests
        }
    ]

    result = summarise(rounds, seconds=2.0)

    assert result["added_p50_us"] == 120.0 and result["ratio_c64"] == 0.6
    assert result["routed_cpu_us_per_request"] == 100.0
    assert result["floor_added_p50_us"] == 50.0 and result["floor_ratio_c64"] == 0.9
    assert result["floor_cpu_us_per_request"] == 30.0
