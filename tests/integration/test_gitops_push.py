"""`git push` to a local bare repository syncs the running platform, as Argo CD syncs a cluster."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bulut.functions.scaffold import Template, create
from bulut.gitops.hooks import install_hook
from bulut.gitops.plan import Health, SyncStatus
from bulut.local import LocalPlatform
from tests.support.platform import local_settings, running_platform
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

SERVICE = """\
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: greeter
spec:
  template:
    metadata:
      annotations:
        bulut.dev/function-path: functions/greeter
    spec:
      containers:
        - image: dev.local/greeter
"""


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def origin(tmp_path: Path) -> tuple[Path, Path]:
    """A working clone and the bare repository it pushes to."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    create("greeter", template=Template.HTTP, path=work / "functions" / "greeter")
    (work / "deploy").mkdir()
    (work / "deploy" / "kustomization.yaml").write_text(
        "namespace: shop\nresources: [greeter.yaml]\n"
    )
    (work / "deploy" / "greeter.yaml").write_text(SERVICE)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "greeter")
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    git(work, "remote", "add", "origin", str(bare))
    return work, bare


@pytest.fixture
async def platform(
    tmp_path: Path, repo_root: Path, origin: tuple[Path, Path]
) -> AsyncIterator[LocalPlatform]:
    """A started platform on ephemeral ports, function builds cached across tests."""
    settings = local_settings(
        tmp_path,
        builds_dir=repo_root / ".bulut" / "test-builds",
        functions_dir=tmp_path / "none",
        gitops_health_check=repo_root / "gitops" / "argocd" / "health-check.lua",
        gitops_interval=3600,  # no poll finds the push first: the hook alone syncs it
    )
    async with running_platform(
        settings, check_images=False, sync=[f"{origin[1]}#main:deploy"]
    ) as local:
        yield local


async def healthy(platform: LocalPlatform) -> None:
    """Until the application is Healthy (its Service Ready: the Lua check says so)."""

    async def check() -> bool:
        return (await platform.gitops.status("deploy")).health is Health.HEALTHY

    await eventually(check, "the application to be Healthy", timeout=90)


async def greeting(platform: LocalPlatform) -> dict[str, object]:
    async with httpx.AsyncClient(timeout=60) as client:
        answer = await client.post(
            f"http://127.0.0.1:{platform.data_port}/",
            headers={"host": "greeter.shop.localhost"},
            content=b"hi",
        )
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


async def test_a_push_syncs_at_once_through_the_hook_and_serves_the_new_code(
    platform: LocalPlatform, origin: tuple[Path, Path]
) -> None:
    work, bare = origin
    first = await asyncio.wait_for(platform.gitops.wait_for_sync("deploy", after=0), 240)
    assert first.succeeded, first.detail
    await asyncio.wait_for(healthy(platform), 240)
    assert await greeting(platform) == {"method": "POST", "path": "/", "size": 2}

    async with httpx.AsyncClient() as client:
        listed = (await client.get(f"{platform.settings.control_url}/gitops/apps")).json()
    assert [(a["name"], a["sync"]) for a in listed] == [("deploy", "Synced")]

    install_hook(bare, f"{platform.settings.control_url}/gitops/deploy/sync")
    func = work / "functions" / "greeter" / "function" / "func.py"
    func.write_text(func.read_text().replace('"size": len(body)', '"size": len(body), "v": 2'))
    git(work, "commit", "-q", "-am", "greeter v2")
    synced = platform.gitops.syncs("deploy")
    git(work, "push", "-q", "origin", "main")
    record = await asyncio.wait_for(platform.gitops.wait_for_sync("deploy", after=synced), 120)
    assert (record.message, record.trigger) == ("greeter v2", "webhook")
    assert record.succeeded, record.detail
    status = await platform.gitops.status("deploy")
    assert status.sync is SyncStatus.SYNCED
    await asyncio.wait_for(healthy(platform), 120)
    assert (await greeting(platform))["v"] == 2
    service = await platform.control.get("Service", "shop", "greeter")
    assert service["status"]["latestReadyRevisionName"] == "greeter-00002"


def test_the_hook_refuses_to_replace_a_hook_that_is_not_bulut_s(tmp_path: Path) -> None:
    bare = tmp_path / "r.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    (bare / "hooks" / "post-receive").write_text("#!/bin/sh\necho mine\n")
    with pytest.raises(Exception, match="is not Bulut's"):
        install_hook(bare, "http://127.0.0.1:1/gitops/x/sync")
    assert (bare / "hooks" / "post-receive").read_text() == "#!/bin/sh\necho mine\n"
