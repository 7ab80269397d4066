"""Cluster suite plumbing: remember each test's report so a fixture can dump state on failure."""

from __future__ import annotations

from collections.abc import Generator

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item (``item.report_call``)."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
