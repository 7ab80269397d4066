"""The sample app on a LocalPlatform, as `make up` runs it: shared by the end-to-end tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bulut.cli.stack import LocalPlatform
from bulut.settings import Settings

NAMESPACE = "shop-dev"
READY_WITHIN = 240.0


def is_ready(resource: dict[str, Any]) -> bool:
    """True when the resource's Ready condition is True."""
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in resource.get("status", {}).get("conditions", [])
    )


@asynccontextmanager
async def sample_app(tmp_path: Path, repo_root: Path) -> AsyncIterator[LocalPlatform]:
    """A platform with gitops/overlays/dev applied and every Service Ready (builds cached)."""
    vault = repo_root / "gitops" / "platform" / "vault"
    settings = Settings(
        state_dir=tmp_path / "state",
        builds_dir=repo_root / ".bulut" / "test-builds",
        functions_dir=repo_root / "functions",
        data_port=0,
        control_port=0,
        vault_policies_dir=vault / "policies",
        vault_seed=vault / "dev-seed.yaml",
    )
    local = LocalPlatform(settings)
    await local.start()
    try:
        await local.apply_paths([repo_root / "gitops" / "overlays" / "dev"], kustomize=True)
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            services = await local.control.list("Service", NAMESPACE)
            if services and all(is_ready(s) for s in services):
                break
            await asyncio.sleep(0.25)
        else:
            waiting = [s["metadata"]["name"] for s in services if not is_ready(s)]
            pytest.fail(f"services not Ready after {READY_WITHIN:.0f} s: {waiting}")
        yield local
    finally:
        await local.aclose()
