"""Every overlay is admitted by the local control plane, side by side, under the cluster's
Knative gates (the KnativeServing CR's config-features, which `bulut up -k` stores first).

Without the CR's features, staging's and prod's zone spread is refused, as Knative's
webhook refuses it on a cluster whose `kubernetes.podspec-topologyspreadconstraints` is off.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.controlplane.plane import ControlPlane
from bulut.errors import InvalidResourceError
from bulut.local import load_paths

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "staging", "prod")


@pytest.fixture
def control(local_control_plane: ControlPlane) -> ControlPlane:
    return local_control_plane


async def test_the_three_overlays_are_admitted_side_by_side(control: ControlPlane) -> None:
    for overlay in OVERLAYS:
        documents = load_paths([REPO / "gitops" / "overlays" / overlay], kustomize=True)
        assert {d["metadata"]["name"] for d in documents[:2]} == {
            "config-features",
            "config-defaults",
        }
        await control.apply(documents)
    for namespace in ("shop-dev", "shop-staging", "shop-prod"):
        services = await control.list("Service", namespace)
        assert sorted(s["metadata"]["name"] for s in services) == [
            "audit", "inventory", "notifications", "orders", "payments",
        ]  # fmt: skip


async def test_without_the_clusters_features_the_zone_spread_is_refused(
    control: ControlPlane,
) -> None:
    documents = load_paths([REPO / "gitops" / "overlays" / "prod"], kustomize=True)[2:]
    with pytest.raises(InvalidResourceError, match="topologySpreadConstraints"):
        await control.apply(documents)
