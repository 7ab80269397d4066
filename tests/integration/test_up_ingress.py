"""`bulut up --ingress haproxy` as users run it: the whole local platform with HAProxy on the
data-plane port, a function served on the warm path and a broker reached through the gateway
behind it."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from bulut.serving.kingress.haproxy import executable
from bulut.serving.kingress.plan import parse_stat
from tests.support.messaging import ready
from tests.support.platform import local_settings, running_platform
from tests.support.waiting import eventually

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(executable() is None, reason="haproxy is not installed"),
]


async def test_haproxy_serves_a_function_warm_and_hands_the_broker_to_the_gateway(
    tmp_path: Path, repo_root: Path, fixture_functions: Path, build_function: object
) -> None:
    settings = local_settings(
        tmp_path,
        ingress="haproxy",
        builds_dir=repo_root / ".bulut" / "test-builds",
        functions_dir=fixture_functions,
    )
    service = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": "crashy", "namespace": "default"},
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {
                        "bulut.dev/function-path": str(fixture_functions / "crashy"),
                        "autoscaling.knative.dev/min-scale": "1",
                    }
                },
                "spec": {"containers": [{"image": "registry.example.com/tests/crashy"}]},
            }
        },
    }
    broker = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": "default", "namespace": "default"},
    }
    async with running_platform(settings) as local:
        assert local.haproxy is not None
        ingress = local.haproxy
        await local.apply_documents([service, broker])
        await ready(local, "Service", "crashy", "default")
        await ready(local, "Broker", "default", "default")
        await eventually(
            lambda: "crashy.default.localhost/0" in ingress.plan.routes,
            "HAProxy to route crashy",
            timeout=30,
        )
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{local.data_port}") as client:
            reply = await client.get("/", headers={"host": "crashy.default.localhost"})
            posted = await client.post(
                "/default/default",
                headers={
                    "ce-specversion": "1.0",
                    "ce-id": str(uuid.uuid4()),
                    "ce-source": "/tests",
                    "ce-type": "test.ping",
                    "content-type": "application/json",
                },
                content=b'{"n": 1}',
            )
        loads = parse_stat(await ingress.process.show("stat -1 2 -1"))

    assert reply.status_code == 200
    assert reply.json()["env"]["K_REVISION"] == "crashy-00001"
    assert loads["rev:default:crashy-00001"].total >= 1  # HAProxy carried it
    assert posted.status_code == 202  # the broker ingress, through the gateway
    assert loads["activator"].total >= 1
