"""No control-plane route answers 500 to bad input (issue #20, item 8).

Random JSON, resource-shaped documents of every kind and runtime reports are sent to every
route of a real control plane (uvicorn on loopback, SQLite). A 5xx, a dropped connection
or a hang is a failure; bad input must be a 4xx naming what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from bulut.controlplane import ControlPlane
from bulut.settings import Settings
from tests.conftest import free_port
from tests.fuzz.strategies import BODIES
from tests.support.controlplane import serve

pytestmark = pytest.mark.integration

REPORT = "/apis/bulut.dev/v1/namespaces/default/revisions/orders-00001/report"
SEGMENTS = st.sampled_from(["default", "orders", "orders-00001", "services", "revisions", "x"]) | (
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~%", min_size=1, max_size=12)
)


def _routes() -> list[tuple[str, str]]:
    """(method, path template) of every API route the control plane serves (its OpenAPI)."""
    nowhere = Settings(state_dir=Path("/nonexistent"), functions_dir=Path("/nonexistent"))
    paths = ControlPlane(nowhere, check_images=False).app.openapi()["paths"]
    return sorted((method.upper(), path) for path, item in paths.items() for method in item)


ROUTES = _routes()


@pytest.fixture(scope="module")
def control(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    state = tmp_path_factory.mktemp("fuzz-control")
    settings = Settings(
        host="127.0.0.1", control_port=free_port(), state_dir=state, functions_dir=state
    )
    with serve(settings) as url, httpx.Client(base_url=url, timeout=10) as http:
        service = {
            "apiVersion": "serving.knative.dev/v1", "kind": "Service",
            "metadata": {"name": "orders", "namespace": "default"},
            "spec": {"template": {"spec": {"containers": [{"image": "orders"}]}}},
        }  # fmt: skip
        assert http.post("/apis/bulut.dev/v1/apply", json={"documents": [service]}).is_success
        yield http


def _fill(template: str, values: list[str]) -> str:
    names = re.findall(r"{([^}]+)}", template)
    path = template
    for name, value in zip(names, values, strict=False):
        path = path.replace("{" + name + "}", value, 1)
    return path


def test_a_garbage_runtime_report_is_a_422_naming_the_field(control: httpx.Client) -> None:
    response = control.post(REPORT, json={"runtime": {"conditions": "garbage"}})
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "runtime.conditions"
    bad_scale = control.post(REPORT, json={"runtime": {"desiredScale": "many"}})
    assert bad_scale.status_code == 422
    assert bad_scale.json()["field"] == "runtime.desiredScale"


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    route=st.sampled_from(ROUTES),
    segments=st.lists(SEGMENTS, min_size=4, max_size=4),
    body=BODIES,
)
@example(route=("POST", "/apis/bulut.dev/v1/namespaces/{namespace}/{plural}/{name}/report"),
         segments=["default", "revisions", "orders-00001", "x"],
         body={"runtime": {"conditions": "garbage"}})  # fmt: skip
def test_no_route_answers_500_to_any_body(
    control: httpx.Client, route: tuple[str, str], segments: list[str], body: Any
) -> None:
    method, template = route
    path = _fill(template, segments)
    send_body = method in ("POST", "PUT", "PATCH")
    headers = {"content-type": "application/merge-patch+json"} if method == "PATCH" else {}
    response = control.request(
        method, path, json=body if send_body else None, headers=headers, params={"watch": "false"}
    )
    assert response.status_code < 500, (method, path, body, response.text[:500])


def test_an_object_larger_than_a_cluster_stores_is_413(control: httpx.Client) -> None:
    def configmap(size: int) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "big", "namespace": "default"},
            "data": {"blob": "x" * size},
        }

    too_big = control.post("/api/v1/namespaces/default/configmaps", json=configmap(1_600_000))
    assert too_big.status_code == 413, too_big.text
    assert "1572864" in too_big.json()["message"]
    applied = control.post("/apis/bulut.dev/v1/apply", json={"documents": [configmap(2_000_000)]})
    assert applied.status_code == 413
    fits = control.post("/api/v1/namespaces/default/configmaps", json=configmap(1_000_000))
    assert fits.status_code == 201, fits.text


@pytest.mark.parametrize("key", ["initial-scale", "min-scale", "max-scale"])
def test_a_scale_above_the_platforms_ceiling_is_refused_at_admission(
    control: httpx.Client, key: str
) -> None:
    annotations = {f"autoscaling.knative.dev/{key}": "100000"}
    service = {
        "apiVersion": "serving.knative.dev/v1", "kind": "Service",
        "metadata": {"name": "wide", "namespace": "default"},
        "spec": {"template": {"metadata": {"annotations": annotations},
                              "spec": {"containers": [{"image": "orders"}]}}},
    }  # fmt: skip
    response = control.post("/apis/bulut.dev/v1/apply", json={"documents": [service]})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"].endswith(f"autoscaling.knative.dev/{key}")
    assert "BULUT_MAX_SCALE" in problem["detail"]
