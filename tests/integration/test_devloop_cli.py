"""The loop's commands as a user types them, against a running platform on its own ports."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bulut.local import LocalPlatform
from tests.support.platform import local_settings, running_platform

pytestmark = pytest.mark.integration


@pytest.fixture
async def platform(tmp_path: Path, repo_root: Path) -> AsyncIterator[LocalPlatform]:
    """A started platform on ephemeral ports, function builds cached across tests."""
    settings = local_settings(
        tmp_path, builds_dir=repo_root / ".bulut" / "test-builds", functions_dir=tmp_path / "none"
    )
    async with running_platform(settings, check_images=False) as local:
        yield local


async def bulut(platform: LocalPlatform, *args: str) -> tuple[int, str, str]:
    """Run the real CLI against the platform (found through BULUT_* ports)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BULUT_")}
    environ["BULUT_CONTROL_PORT"] = str(platform.control_port)
    environ["BULUT_DATA_PORT"] = str(platform.data_port)
    environ["BULUT_BUILDS_DIR"] = str(platform.settings.builds)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bulut.cli.main", *args, env=environ,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd, check=True, capture_output=True,
    )  # fmt: skip


@pytest.mark.timeout(600)  # a dozen CLI processes: slow where the machine is busy
async def test_create_deploy_describe_delete(platform: LocalPlatform, tmp_path: Path) -> None:
    folder = str(tmp_path / "greeter")
    code, _, err = await bulut(
        platform, "func", "create", "greeter", "-t", "http", "--path", folder
    )
    assert code == 0, err
    code, out, err = await bulut(platform, "func", "deploy", folder, "-n", "dev")
    assert code == 0, err
    url = f"http://greeter.dev.localhost:{platform.data_port}"
    assert f"function dev/greeter deployed: revision greeter-00001 serves at {url}" in out

    code, out, err = await bulut(platform, "func", "test", folder)
    assert code == 0, out + err
    assert "1 passed" in out

    code, out, _ = await bulut(platform, "func", "describe", folder, "-n", "dev")
    assert code == 0
    assert f"Routes:\n  {url}" in out
    assert "deployed code is current" in out
    (tmp_path / "greeter" / "function" / "func.py").write_text("# changed\n", encoding="utf-8")
    code, out, _ = await bulut(platform, "func", "describe", folder, "-n", "dev")
    assert "changed since the last deploy" in out

    code, out, _ = await bulut(platform, "func", "delete", folder, "-n", "dev")
    assert code == 0
    assert "service dev/greeter deleted" in out
    code, _, err = await bulut(platform, "func", "delete", folder, "-n", "dev")
    assert code == 2
    assert "not deployed" in err


@pytest.mark.timeout(600)
async def test_gitops_commands_show_and_change_an_application(
    platform: LocalPlatform, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / "deploy").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "deploy" / "kustomization.yaml").write_text("namespace: shop\nresources: [cm.yaml]\n")
    (repo / "deploy" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '1'}\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "settings")

    code, out, err = await bulut(
        platform, "gitops", "add", "shop", "--repo", str(repo), "--path", "deploy",
        "--revision", "main", "--no-self-heal",
    )  # fmt: skip
    assert code == 0, err
    code, out, err = await bulut(platform, "gitops", "sync", "shop")
    assert code == 0, err
    assert "shop: Succeeded" in out
    code, out, _ = await bulut(platform, "gitops", "list")
    assert "Synced" in out and "Healthy" in out and "settings" in out

    await platform.control.patch("ConfigMap", "shop", "settings", {"data": {"a": "2"}})
    code, out, _ = await bulut(platform, "gitops", "diff", "shop")
    assert code == 1
    assert "-  a: '2'" in out and "+  a: '1'" in out
    code, out, _ = await bulut(platform, "gitops", "status", "shop")
    assert "OutOfSync" in out

    code, out, _ = await bulut(platform, "gitops", "history", "shop")
    assert code == 0 and "Succeeded" in out
    code, out, _ = await bulut(platform, "gitops", "delete", "shop")
    assert code == 0
    assert "ConfigMap shop/settings deleted" in out
    code, _, err = await bulut(platform, "gitops", "status", "shop")
    assert code == 2
    assert "application 'shop' not found" in err
