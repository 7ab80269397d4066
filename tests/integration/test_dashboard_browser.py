"""The dashboard in headless Chromium: live scale charts, the event stream, redelivery.

Real pieces on loopback: the dashboard and the real eventing admin API mounted together
as the control plane mounts them, the broker ingress, a subscriber and a dead-letter
sink. The ResourceFeed is the in-memory one (a first-class implementation of the
Protocol), so the test can scale a revision 0 → 2 → 0 by writing its status. Screenshots
land in tests/artifacts/.
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
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from bulut.dashboard import Dashboard
from bulut.eventing.memory_feed import MemoryFeed
from bulut.observability.metrics import PlatformMetrics
from tests.support.eventing import (
    Received,
    binary_headers,
    broker,
    eventing_runtime,
    subscriber,
    trigger,
)
from tests.support.network import free_port

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "headless browser test needs chromium and chromedriver "
        "(apt-get install -y chromium chromium-driver)",
        allow_module_level=True,
    )

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is a dev dependency")
from selenium.webdriver.common.by import By  # noqa: E402


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
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
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
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


async def until(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Poll a (blocking) browser check off the event loop until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await asyncio.to_thread(check)
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def chart(driver: Any, name: str) -> dict[str, str]:
    """The data attributes of one revision's chart."""
    element = driver.find_element(By.CSS_SELECTOR, f'svg.scale-chart[data-revision="{name}"]')
    keys = ("actual", "desired", "peak", "points")
    return {key: str(element.get_attribute(f"data-{key}")) for key in keys}


async def screenshot(driver: Any, name: str) -> Path:
    """Save a screenshot under tests/artifacts/ and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    await asyncio.to_thread(driver.save_screenshot, str(path))
    return path


@contextlib.asynccontextmanager
async def control_plane(
    feed: MemoryFeed, admin: Any, metrics: PlatformMetrics, driver: Any, reports: Path
) -> AsyncIterator[str]:
    """The dashboard at ``/`` and the eventing admin API at ``/eventing``, as on :8081.

    The browser leaves the page first: its event streams would otherwise keep the
    server's graceful shutdown waiting.
    """
    dashboard = Dashboard(
        feed, eventing_base="/eventing", metrics=metrics, dr_reports_dir=reports, window=20.0
    )
    await dashboard.start()
    app = Starlette(routes=[Mount("/eventing", admin), Mount("/", dashboard)])
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="error",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await asyncio.to_thread(driver.get, "about:blank")
        server.should_exit = True
        await task
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
            admin = rt.eventing.admin_app
            async with control_plane(feed, admin, metrics, browser, reports) as base:
                await asyncio.to_thread(browser.get, base + "/")
                await until(
                    lambda: browser.find_element(By.ID, "status").text == "live", "the stream"
                )
                services = browser.find_element(By.ID, "services").text
                assert "orders" in services and "orders-00001 100%" in services
                assert chart(browser, "orders-00001")["actual"] == "0"
                assert "restore-control-plane" in browser.find_element(By.ID, "drill").text
                loaded = browser.execute_script(
                    "return performance.getEntriesByType('resource').map(e => e.name)"
                )
                assert loaded and all(url.startswith(base) for url in loaded)  # no CDN
                await asyncio.sleep(1.0)

                feed.put(revision("orders-00001", 0, 2))
                await asyncio.sleep(0.6)
                feed.put(revision("orders-00001", 1, 2))
                await asyncio.sleep(0.4)
                feed.put(revision("orders-00001", 2, 2))
                await until(lambda: chart(browser, "orders-00001")["actual"] == "2", "scale-up")
                scale = browser.find_element(
                    By.CSS_SELECTOR, '.scale[data-revision="orders-00001"]'
                )
                assert scale.text == "2/2"
                await asyncio.sleep(2.0)
                await screenshot(browser, "dashboard-scaled-up.png")

                feed.put(revision("orders-00001", 2, 0))
                await asyncio.sleep(0.6)
                feed.put(revision("orders-00001", 0, 0))
                await until(lambda: chart(browser, "orders-00001")["actual"] == "0", "scale-down")
                seen = chart(browser, "orders-00001")
                assert seen["peak"] == "2" and int(seen["points"]) >= 3
                assert "NoTraffic" in browser.find_element(By.ID, "revisions").text
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
