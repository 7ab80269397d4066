"""Off loopback the control plane wants a bearer token, over HTTPS with a CA of its own."""

from __future__ import annotations

import dataclasses
import ssl
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from bulut.kubeconfig import merged, platform_of
from bulut.settings import Settings
from tests.support.controlplane import serve
from tests.support.network import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, str]]:
    state = tmp_path_factory.mktemp("state")
    settings = Settings(
        host="0.0.0.0",
        state_dir=state,
        functions_dir=state,
        control_port=free_port(),
    )
    with serve(settings) as url:
        yield settings, url


def kubectl(repo_root: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(repo_root / ".venv" / "bin" / "kubectl"), *args],
        capture_output=True,
        text=True,
        env={"HOME": str(home), "KUBECONFIG": str(home / "config"), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )


def test_the_token_and_ca_are_written_for_the_kubeconfig(exposed: tuple[Settings, str]) -> None:
    settings, url = exposed
    folder = settings.state_dir / "controlplane"
    assert url.startswith("https://")
    assert stat.S_IMODE((folder / "token").stat().st_mode) == 0o600
    assert len((folder / "token").read_text().strip()) >= 40
    assert (folder / "ca.crt").read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_anonymous_requests_get_a_401_status(exposed: tuple[Settings, str]) -> None:
    settings, _ = exposed
    ca = ssl.create_default_context(cafile=str(settings.state_dir / "controlplane" / "ca.crt"))
    base = f"https://127.0.0.1:{settings.control_port}"
    anonymous = httpx.get(f"{base}/api/v1/namespaces", verify=ca)
    assert anonymous.status_code == 401
    assert anonymous.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }
    wrong = httpx.get(
        f"{base}/api/v1/namespaces", verify=ca, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401
    assert httpx.get(f"{base}/readyz", verify=ca).status_code == 200
    token = (settings.state_dir / "controlplane" / "token").read_text().strip()
    allowed = httpx.get(
        f"{base}/api/v1/namespaces", verify=ca, headers={"Authorization": f"Bearer {token}"}
    )
    assert allowed.status_code == 200
    assert "default" in [n["metadata"]["name"] for n in allowed.json()["items"]]


def test_kubectl_works_with_the_kubeconfig_bulut_writes_and_not_with_a_stale_token(
    exposed: tuple[Settings, str], repo_root: Path, tmp_path: Path
) -> None:
    settings, _ = exposed
    platform = platform_of(settings, namespace="default")
    assert platform.server == f"https://127.0.0.1:{settings.control_port}"
    (tmp_path / "config").write_text(yaml.safe_dump(merged({}, platform)), encoding="utf-8")
    listed = kubectl(repo_root, tmp_path, "--context", "bulut", "get", "ns")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1].split()[:2] == ["default", "Active"]
    stale = merged({}, dataclasses.replace(platform, token="a-token-from-an-earlier-start"))
    (tmp_path / "config").write_text(yaml.safe_dump(stale), encoding="utf-8")
    refused = kubectl(repo_root, tmp_path, "--context", "bulut", "get", "ns")
    assert refused.returncode == 1
    assert "You must be logged in to the server" in refused.stderr
