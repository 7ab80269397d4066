"""NetworkPolicies on the local data plane, with two functions: ``caller`` (namespace
``front``) calls ``hello`` (namespace ``shop``) through its Knative URL, as a function calls
another directly. On a cluster that request reaches hello's pod from the ingress gateway or
the activator; the shop's own policies (gitops/bases/policies) admit them, a lone
deny-all-ingress refuses them, and so does the local data plane.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from bulut.local import LocalPlatform
from tests.support.platform import is_ready, local_settings, running_platform
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "functions"


def service(name: str, namespace: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"image": name}
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"spec": {"containers": [container]}}},
    }


def shop_policies(*names: str) -> list[dict[str, Any]]:
    documents = yaml.safe_load_all((REPO / "gitops/bases/policies/networkpolicy.yaml").read_text())
    return [
        {**d, "metadata": {**d["metadata"], "namespace": "shop"}}
        for d in documents
        if d["metadata"]["name"] in names
    ]


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[LocalPlatform]:
    settings = local_settings(
        tmp_path, builds_dir=REPO / ".bulut" / "test-builds", functions_dir=FIXTURES
    )
    async with running_platform(settings, check_images=False) as local:
        data_plane = f"http://127.0.0.1:{local.data_port}"
        await local.apply_documents(
            [service("hello", "shop"), service("caller", "front", {"DATA_PLANE": data_plane})]
        )

        async def both_ready() -> bool:
            services = await local.control.list("Service")
            return len(services) == 2 and all(is_ready(s) for s in services)

        await eventually(both_ready, "hello and caller to be Ready", timeout=240)
        yield local


async def caller_reaches_hello(platform: LocalPlatform) -> str:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{platform.data_port}") as client:
        response = await client.get(
            "/",
            params={"host": "hello.shop.localhost"},
            headers={"host": "caller.front.localhost"},
            timeout=60,
        )
    assert response.status_code == 200, response.text
    return response.text


async def test_the_shops_policies_admit_knatives_data_path(platform: LocalPlatform) -> None:
    await platform.apply_documents(
        shop_policies("deny-all-ingress", "allow-from-knative-system", "allow-from-monitoring")
    )
    assert await caller_reaches_hello(platform) == "200 OK"


async def test_deny_all_ingress_alone_refuses_a_function_calling_another(
    platform: LocalPlatform,
) -> None:
    assert await caller_reaches_hello(platform) == "200 OK"
    await platform.apply_documents(shop_policies("deny-all-ingress"))

    async def refused() -> str | None:
        answer = await caller_reaches_hello(platform)
        return answer if answer.startswith("403 ") else None

    answer = await eventually(refused, "the call to be refused")
    assert "Refused by NetworkPolicy" in answer and "shop/deny-all-ingress" in answer
    await platform.apply_documents(shop_policies("allow-from-knative-system"))

    async def admitted() -> str | None:
        answer = await caller_reaches_hello(platform)
        return answer if answer == "200 OK" else None

    await eventually(admitted, "the call to be admitted again")
