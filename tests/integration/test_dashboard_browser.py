"""The dashboard in headless Chromium: live scale charts, the event stream, redelivery.

Real pieces on loopback: the dashboard and the real eventing admin API mounted together
as the control plane mounts them, the broker ingress, a subscriber and a dead-letter
sink. The ResourceFeed is the in-memory one (a first-class implementation of the
Protocol), so the test can scale a revision 0 → 2 → 0 by writing its status; the
dashboard's clock is the test's, so the chart spreads the steps over seconds that never
pass. Screenshots land in tests/artifacts/.

Debian's chromium and chromium-driver are needed: `make test` installs them when missing
(`.ci/run` runs it); without them the test fails with the command that installs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from starlette.applications import Starlette
from starlette.routing import Mount

from bulut.dashboard import Dashboard
from bulut.observability.metrics import PlatformMetrics
from tests.support.clock import ManualClock
from tests.support.eventing import (
    Received,
    binary_headers,
    broker,
    eventing_runtime,
    subscriber,
    trigger,
)
from tests.support.network import serving
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
INSTALL = "apt-get install -y chromium chromium-driver"


def service(name: str, revision: str) -> dict[str, Any]:
    """A ready Service whose traffic goes all to ``revision``."""
    return {
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "status": {
            "url": f"http://{name}.default.localhost:8080",
            "latestReadyRevisionName": revision,
            "traffic": [{"revisionName": revision, "percent": 100, "latestRevision": True}],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def revision(name: str, actual: int, desired: int) -> dict[str, Any]:
    """A Revision with the runtime's scale in its status."""
    active = (
        {"type": "Active", "status": "True"}
        if desired
        else {"type": "Active", "status": "False", "reason": "NoTraffic"}
    )
    return {
        "kind": "Revision",
        "metadata": {
            "name": name,
            "namespace": "default",
            "labels": {"serving.knative.dev/service": "orders"},
        },
        "status": {
            "actualReplicas": actual,
            "desiredReplicas": desired,
            "conditions": [{"type": "Ready", "status": "True"}, active],
        },
    }


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Chromium with a fresh profile, driven by Debian's chromedriver."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.fail(f"the dashboard test needs Chromium and its driver: {INSTALL}", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
    ):
        options.add_argument(flag)
    profile = ARTIFACTS / ".chromium-profile"
    shutil.rmtree(profile, ignore_errors=True)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(chromedriver))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


async def until(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """A (blocking) browser check polled off the event loop until it returns something truthy."""
    return await eventually(lambda: asyncio.to_thread(check), what, timeout=timeout, interval=0.1)


def chart(driver: Any, name: str) -> dict[str, str]:
    """The data attributes of one revision's chart, read at once (live updates replace it)."""
    found = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e && Object.assign({}, e.dataset)",
        f'svg.scale-chart[data-revision="{name}"]',
    )
    return {str(key): str(value) for key, value in (found or {}).items()}


def text_of(driver: Any, selector: str) -> str:
    """The text of an element, read at once (live updates replace elements)."""
    return str(
        driver.execute_script("return document.querySelector(arguments[0]).innerText", selector)
    )


async def screenshot(driver: Any, name: str) -> Path:
    """Save a screenshot under tests/artifacts/ and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    await asyncio.to_thread(driver.save_screenshot, str(path))
    return path


@contextlib.asynccontextmanager
async def control_plane(dashboard: Dashboard, admin: Any, driver: Any) -> AsyncIterator[str]:
    """The dashboard at ``/`` and the eventing admin API at ``/eventing``, as on :8081.

    The browser leaves the page first: its event streams would otherwise keep the
    server's graceful shutdown waiting.
    """
    await dashboard.start()
    app = Starlette(routes=[Mount("/eventing", admin), Mount("/", dashboard)])
    try:
        async with serving(app, graceful_shutdown=1) as port:
            try:
                yield f"http://127.0.0.1:{port}"
            finally:
                await asyncio.to_thread(driver.get, "about:blank")
    finally:
        await dashboard.aclose()


async def test_dashboard_shows_a_revision_scaling_up_and_back_to_zero_live(
    tmp_path: Path, browser: Any
) -> None:
    fail_first = {"fail": True}

    def answer(request: Received, count: int) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        return (500, [], b"boom") if fail_first["fail"] else (200, [], b"")

    async with subscriber(answer) as sub, subscriber() as dls:
        resources = [
            broker(),
            trigger(
                "orders",
                sub.url,
                dead_letter_sink_uri=dls.url,
                delivery={"retry": 0, "deadLetterSink": {"uri": dls.url}},
            ),
        ]
        async with eventing_runtime(tmp_path, resources) as rt:
            feed = rt.feed
            feed.put(service("orders", "orders-00001"))
            feed.put(revision("orders-00001", 0, 0))
            metrics = PlatformMetrics()
            metrics.request_finished("default", "orders", "orders-00001", 200, 0.01)
            reports = tmp_path / "drills"
            reports.mkdir()
            (reports / "2026-11-28-restore.json").write_text(
                json.dumps({"scenario": "restore-control-plane", "rtoSeconds": 41, "rpoSeconds": 0})
            )
            clock = ManualClock(time.time())
            dashboard = Dashboard(
                feed,
                eventing_base="/eventing",
                metrics=metrics,
                dr_reports_dir=reports,
                window=20.0,
                clock=clock,
            )
            async with control_plane(dashboard, rt.eventing.admin_app, browser) as base:
                await asyncio.to_thread(browser.get, base + "/")
                await until(
                    lambda: browser.find_element(By.ID, "status").text == "live", "the stream"
                )
                services = text_of(browser, "#services")
                assert "orders" in services and "orders-00001 100%" in services
                assert chart(browser, "orders-00001")["actual"] == "0"
                assert "restore-control-plane" in browser.find_element(By.ID, "drill").text
                loaded = browser.execute_script(
                    "return performance.getEntriesByType('resource').map(e => e.name)"
                )
                assert loaded and all(url.startswith(base) for url in loaded)  # no CDN

                for seconds, actual, desired in ((1.0, 0, 2), (0.6, 1, 2), (0.4, 2, 2)):
                    clock.advance(seconds)
                    feed.put(revision("orders-00001", actual, desired))
                await until(lambda: chart(browser, "orders-00001")["actual"] == "2", "scale-up")
                assert text_of(browser, '.scale[data-revision="orders-00001"]') == "2/2"
                clock.advance(2.0)
                await screenshot(browser, "dashboard-scaled-up.png")

                for seconds, actual, desired in ((0.6, 2, 0), (0.6, 0, 0)):
                    clock.advance(seconds)
                    feed.put(revision("orders-00001", actual, desired))
                await until(lambda: chart(browser, "orders-00001")["actual"] == "0", "scale-down")
                seen = chart(browser, "orders-00001")
                assert seen["peak"] == "2" and int(seen["points"]) >= 3
                assert "NoTraffic" in text_of(browser, "#revisions")
                await screenshot(browser, "dashboard-scaled-to-zero.png")

                async with httpx.AsyncClient() as http:
                    posted = await http.post(
                        rt.broker_url,
                        headers=binary_headers("order-1", "order.created"),
                        content=b"{}",
                    )
                assert posted.status_code == 202
                await dls.wait_for(1)
                rows = await until(
                    lambda: browser.find_elements(By.CSS_SELECTOR, "#dead-body tr"), "dead letter"
                )
                assert "order-1" in rows[0].text and "dead-lettered" in rows[0].text
                stream = browser.find_element(By.ID, "events-body").text
                assert "order.created" in stream and "dead-lettered" in stream
                await screenshot(browser, "dashboard-dead-letter.png")

                fail_first["fail"] = False
                await asyncio.to_thread(
                    browser.find_element(By.CSS_SELECTOR, "#dead-body button.redeliver").click
                )
                await sub.wait_for(2)
                await until(
                    lambda: not browser.find_elements(By.CSS_SELECTOR, "#dead-body tr"),
                    "the dead letter to go away",
                )
                status = browser.find_element(By.ID, "redeliver-status").text
                assert status == "redelivering order-1 to default/orders"
                await until(
                    lambda: "delivered" in browser.find_element(By.ID, "events-body").text,
                    "the redelivery in the stream",
                )
                await screenshot(browser, "dashboard-redelivered.png")
