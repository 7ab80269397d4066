"""The dashboard shows the drills of the platform it runs: none on a fresh state directory
(even beside the example reports committed in disaster-recovery/reports), then the one
`bulut dr drill` wrote into that state directory."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bulut.dr.drills.report import DrillReport
from bulut.dr.drills.runner import write_report
from tests.support.platform import local_settings, running_platform

pytestmark = pytest.mark.integration


async def test_a_fresh_platform_shows_no_drill_then_its_own(
    tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo_root)  # where `make up` runs, beside the committed examples
    assert list((repo_root / "disaster-recovery" / "reports").glob("*.json"))
    settings = local_settings(tmp_path)
    async with running_platform(settings) as local:
        url = f"http://{settings.host}:{local.control_port}/"
        async with httpx.AsyncClient() as http:
            fresh = (await http.get(url)).text
            report = DrillReport("standard", "delete-state", 0.0, acked=3, rto_seconds=1.5)
            write_report(report, settings.reports)  # what `bulut dr drill` does by default
            drilled = (await http.get(url)).text
    assert "no drill report yet" in fresh
    assert "standard-latest" in drilled and "delete-state" in drilled
