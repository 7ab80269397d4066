"""The dashboard and /metrics wired to the real control plane, the way `bulut up` mounts them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from bulut.controlplane import ControlPlane
from bulut.dashboard import create_dashboard
from bulut.observability.exposition import metrics_route
from bulut.observability.metrics import PlatformMetrics
from bulut.settings import Settings
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

SERVICE = {
    "apiVersion": "serving.knative.dev/v1",
    "kind": "Service",
    "metadata": {"name": "orders", "namespace": "default"},
    "spec": {"template": {"spec": {"containers": [{"image": "registry.example.com/shop/orders"}]}}},
}
BROKER = {
    "apiVersion": "eventing.knative.dev/v1",
    "kind": "Broker",
    "metadata": {"name": "default", "namespace": "default"},
}


def runtime(scale: int) -> dict[str, Any]:
    healthy = [
        {"type": "ResourcesAvailable", "status": "True"},
        {"type": "ContainerHealthy", "status": "True"},
    ]
    return {
        "desiredScale": scale,
        "actualScale": scale,
        "readyInstances": scale,
        "conditions": healthy,
    }


async def test_runtime_reports_reach_the_dashboard_through_the_control_planes_feed(
    tmp_path: Path,
) -> None:
    control = ControlPlane(
        Settings(state_dir=tmp_path, data_port=0, control_port=0), check_images=False
    )
    await control.start()
    metrics = PlatformMetrics()
    dashboard = create_dashboard(control, eventing_base=None, metrics=metrics)
    control.app.router.routes.append(metrics_route(metrics.registry))
    control.app.mount("/", dashboard)
    await dashboard.start()
    try:
        await control.apply([SERVICE, BROKER])
        await eventually(
            lambda: ("default", "orders-00001") in dashboard.state.series, "the revision's series"
        )
        for scale in (2, 0):
            await control.report("Revision", "default", "orders-00001", runtime(scale))
        series = dashboard.state.series[("default", "orders-00001")]
        scaled = [(0, 0), (2, 2), (0, 0)]
        await eventually(lambda: [(p.actual, p.desired) for p in series] == scaled, "0 → 2 → 0")
        metrics.request_finished("default", "orders", "orders-00001", 200, 0.01)
        transport = httpx.ASGITransport(control.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cp") as client:
            page = await client.get("/")
            scraped = await client.get("/metrics")
            health = await client.get("/healthz")
            listed = await client.get("/apis/serving.knative.dev/v1/namespaces/default/services")
        assert page.status_code == 200
        assert "orders-00001" in page.text and 'data-peak="2"' in page.text
        assert "http://orders.default.localhost" in page.text
        assert 'kn_revision_name="orders-00001"' in scraped.text
        assert health.json() == {"status": "ok"}  # routes before the "/" mount still win
        assert [item["metadata"]["name"] for item in listed.json()["items"]] == ["orders"]
    finally:
        await dashboard.aclose()
        await control.aclose()
