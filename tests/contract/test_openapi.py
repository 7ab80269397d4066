"""The control plane's OpenAPI document is a committed contract.

Refresh the snapshot after an intended API change with ``BULUT_UPDATE_SNAPSHOTS=1``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bulut.apis import openapi
from bulut.apis.registry import registry
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


def test_every_served_kind_has_kubernetes_paths_in_openapi_v3() -> None:
    served = registry()
    for resource in served:
        paths = openapi.document(served, resource.group, resource.version)["paths"]
        scope = "/namespaces/{namespace}" if resource.namespaced else ""
        item = f"{resource.root}{scope}/{resource.plural}/{{name}}"
        assert f"{resource.root}{scope}/{resource.plural}" in paths
        patch = paths[item]["patch"]
        assert patch["x-kubernetes-group-version-kind"] == {
            "group": resource.group,
            "version": resource.version,
            "kind": resource.kind,
        }
        assert {"name": "fieldValidation", "in": "query"}.items() <= patch["parameters"][2].items()


def test_bulut_routes_stay_in_the_fastapi_document() -> None:
    paths = ControlPlane(Settings()).app.openapi()["paths"]
    assert "/apis/bulut.dev/v1/apply" in paths
