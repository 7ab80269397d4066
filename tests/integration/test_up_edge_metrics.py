"""`bulut up --rate-limit`: requests the edge refuses are counted on /metrics."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bulut.local import LocalPlatform
from bulut.settings import Settings
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def rejected(text: str, status: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "bulut_edge_rejected_requests_total"
                and sample.labels.get("http_response_status_code") == status
            ):
                return float(sample.value)
    return 0.0


async def test_rate_limited_requests_are_exported_as_edge_rejections(tmp_path: Path) -> None:
    settings = Settings(
        state_dir=tmp_path / "state",
        data_port=0,
        control_port=0,
        vault_policies_dir=tmp_path / "none",
        vault_seed=tmp_path / "none.yaml",
        rate_limit="1/s,burst=1",
    )
    local = LocalPlatform(settings, check_images=False)
    await local.start()
    try:
        data = f"http://127.0.0.1:{local.data_port}/default/default"
        async with httpx.AsyncClient(timeout=10) as client:
            codes = [(await client.post(data, content=b"{}")).status_code for _ in range(4)]
            metrics = f"http://127.0.0.1:{local.control_port}/metrics"

            async def scrape() -> httpx.Response | None:
                response = await client.get(metrics)  # its own bucket refills at 1/s
                return response if response.status_code != 429 else None

            scraped = await eventually(
                scrape, "/metrics past the rate limit", timeout=20, interval=0.2
            )
    finally:
        await local.aclose()

    assert codes.count(429) >= 2, codes
    assert rejected(scraped.text, "429") >= codes.count(429)
