"""The control plane's OpenAPI document is a committed contract.

Refresh the snapshot after an intended API change with ``BULUT_UPDATE_SNAPSHOTS=1``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bulut.controlplane import ControlPlane
from bulut.settings import Settings

SNAPSHOT = Path(__file__).with_name("openapi.json")


def test_openapi_matches_the_committed_snapshot(tmp_path: Path) -> None:
    document = ControlPlane(Settings(state_dir=tmp_path)).app.openapi()
    rendered = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if os.environ.get("BULUT_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(rendered, encoding="utf-8")
    assert SNAPSHOT.exists(), f"{SNAPSHOT} is missing: create it with BULUT_UPDATE_SNAPSHOTS=1"
    assert json.loads(SNAPSHOT.read_text(encoding="utf-8")) == json.loads(rendered), (
        "the API changed: review it, then refresh with BULUT_UPDATE_SNAPSHOTS=1"
    )


def test_every_knative_collection_is_served() -> None:
    paths = ControlPlane(Settings()).app.openapi()["paths"]
    for root in (
        "/apis/serving.knative.dev/v1",
        "/apis/eventing.knative.dev/v1",
        "/apis/sources.knative.dev/v1",
        "/api/v1",
    ):
        assert f"{root}/namespaces/{{namespace}}/{{plural}}" in paths
        assert f"{root}/namespaces/{{namespace}}/{{plural}}/{{name}}" in paths
    assert "/apis/bulut.dev/v1/apply" in paths
