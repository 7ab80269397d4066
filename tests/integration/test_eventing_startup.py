"""Events sent while `bulut up` is still starting are held, not refused (issue #20 item 10).

The sample app's heartbeat PingSource fires into the broker from the first minute; its
delivery to audit used to get 503 while audit was still being built and was dead-lettered.
Deliveries reach the data plane like any request, so the activator holds them until the
revision runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.platform import NAMESPACE, local_settings, running_platform
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.xdist_group("function-builds")]

HEARTBEAT = {
    "ce-specversion": "1.0",
    "ce-id": "heartbeat-at-start",
    "ce-source": f"/apis/v1/namespaces/{NAMESPACE}/pingsources/heartbeat",
    "ce-type": "dev.knative.sources.ping",
    "content-type": "application/json",
}


async def test_a_heartbeat_sent_before_audit_runs_is_delivered_not_dead_lettered(
    tmp_path: Path, repo_root: Path
) -> None:
    vault = repo_root / "gitops" / "platform" / "vault"
    settings = local_settings(
        tmp_path,
        builds_dir=repo_root / ".bulut" / "test-builds",
        functions_dir=repo_root / "functions",
        vault_policies_dir=vault / "policies",
        vault_seed=vault / "dev-seed.yaml",
    )
    async with running_platform(settings) as local:
        await local.apply_paths([repo_root / "gitops" / "overlays" / "dev"], kustomize=True)
        audit = await local.control.get("Service", NAMESPACE, "audit")
        assert not any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in audit.get("status", {}).get("conditions", [])
        ), "audit was Ready at once: this test needs it still starting"
        data = f"http://127.0.0.1:{local.data_port}"
        control = f"http://127.0.0.1:{local.control_port}"
        async with httpx.AsyncClient(base_url=data) as client:
            sent = await client.post(f"/{NAMESPACE}/default", headers=HEARTBEAT, content=b"{}")
        assert sent.status_code == 202, sent.text
        trigger = f"{NAMESPACE}/audit-function-trigger-0"

        async def audit_outcome() -> dict[str, Any] | None:
            async with httpx.AsyncClient(base_url=control) as admin:
                items = (await admin.get("/eventing/events/heartbeat-at-start")).json()["items"]
            for delivery in items[0]["deliveries"] if items else []:
                if delivery["trigger"] == trigger:
                    return dict(delivery)
            return None

        outcome = await eventually(audit_outcome, "audit's delivery of the heartbeat", timeout=240)
    assert (outcome["outcome"], outcome["code"]) == ("delivered", 204), outcome
