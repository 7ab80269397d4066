"""DomainMapping on the whole local platform: a request for the mapped domain reaches the
Service, with ``K-Original-Host``; without a ClusterDomainClaim (auto-create off) the
mapping is not Ready and the domain is not routed."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulut.devloop.deploy import deploy
from bulut.functions.scaffold import Template, create
from bulut.local import LocalPlatform
from tests.support.platform import condition, local_settings, running_platform
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

NAMESPACE = "shop"
DOMAIN = "shop.example.com"
HEADERS_FUNCTION = textwrap.dedent(
    """
    import json


    def new():
        return Function()


    class Function:
        async def handle(self, scope, receive, send):
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            body = json.dumps(
                {"host": headers.get("host"), "original": headers.get("k-original-host")}
            ).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
    """
)


@pytest.fixture
async def platform(tmp_path: Path, repo_root: Path) -> AsyncIterator[LocalPlatform]:
    settings = local_settings(
        tmp_path,
        builds_dir=repo_root / ".bulut" / "test-builds",
        functions_dir=tmp_path / "functions",
    )
    async with running_platform(settings, check_images=False) as local:
        yield local


@pytest.fixture
async def storefront(platform: LocalPlatform, tmp_path: Path) -> str:
    folder = create("storefront", template=Template.HTTP, path=tmp_path / "functions" / "sf").root
    (folder / "function" / "func.py").write_text(HEADERS_FUNCTION)
    await deploy(platform.control, folder, NAMESPACE)
    return "storefront"


def mapping(domain: str, service: str) -> dict[str, Any]:
    return {
        "apiVersion": "serving.knative.dev/v1beta1",
        "kind": "DomainMapping",
        "metadata": {"name": domain, "namespace": NAMESPACE},
        "spec": {
            "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": service}
        },
    }


def claim(domain: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.internal.knative.dev/v1alpha1",
        "kind": "ClusterDomainClaim",
        "metadata": {"name": domain},
        "spec": {"namespace": namespace},
    }


async def status_of(platform: LocalPlatform, condition_type: str = "Ready") -> dict[str, Any]:
    found = await platform.control.get("DomainMapping", NAMESPACE, DOMAIN)
    return condition(found, condition_type)


async def test_the_mapped_domain_reaches_the_service_once_claimed(
    platform: LocalPlatform, storefront: str
) -> None:
    await platform.control.apply([mapping(DOMAIN, storefront)])
    claimed = await status_of(platform, "DomainClaimed")
    assert (claimed["status"], claimed["reason"]) == ("False", "DomainAlreadyClaimed")
    url = f"http://127.0.0.1:{platform.data_port}/"
    async with httpx.AsyncClient() as http:
        unclaimed = await http.get(url, headers={"host": DOMAIN})
        assert unclaimed.status_code != 200 or unclaimed.json().get("original") != DOMAIN

        await platform.control.apply([claim(DOMAIN, NAMESPACE)])
        ready = await eventually(
            lambda: _ready(platform), "the DomainMapping Ready once its namespace holds the claim"
        )
        answer = await eventually(
            lambda: _answer(http, url), f"a request for {DOMAIN} answered by the Service"
        )
    assert ready["status"]["url"] == f"http://{DOMAIN}:{platform.data_port}"
    assert answer == {"host": f"{storefront}.{NAMESPACE}.localhost", "original": DOMAIN}


async def test_auto_create_claims_the_domain_for_the_mapping_s_namespace(
    platform: LocalPlatform, storefront: str
) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "config-network", "namespace": "knative-serving"},
        "data": {"autocreate-cluster-domain-claims": "true"},
    }
    await platform.control.apply([config, mapping(DOMAIN, storefront)])
    await eventually(lambda: _ready(platform), "the DomainMapping Ready")
    created = await platform.control.get("ClusterDomainClaim", "", DOMAIN)
    assert created["spec"] == {"namespace": NAMESPACE}


async def _ready(platform: LocalPlatform) -> dict[str, Any] | None:
    found = await platform.control.get("DomainMapping", NAMESPACE, DOMAIN)
    return found if condition(found, "Ready").get("status") == "True" else None


async def _answer(http: httpx.AsyncClient, url: str) -> dict[str, Any] | None:
    response = await http.get(url, headers={"host": DOMAIN})
    return response.json() if response.status_code == 200 else None
