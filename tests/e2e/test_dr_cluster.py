"""The cluster drill on a real cluster with Velero: backup, mapped restore, ksvc Ready,
probe, inventory comparison, clean-up (`bulut dr drill --cluster`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.dr.drills.scenario import load_scenario
from bulut.dr.velero.drill import Kubectl, find_kubectl, run_cluster_drill

from . import cluster

NO_CLUSTER = cluster.no_cluster_reason("Knative and Velero to run the disaster-recovery drill")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(NO_CLUSTER is not None, reason=str(NO_CLUSTER)),
    pytest.mark.timeout(1800),
]

REPO = Path(__file__).resolve().parents[2]


def test_the_cluster_drill_restores_the_namespace_and_the_service_answers() -> None:
    kubectl = Kubectl(find_kubectl())
    if cluster.kubectl("get", "crd", "backups.velero.io", check=False).returncode != 0:
        pytest.skip("Velero is not installed on this cluster (no backups.velero.io CRD)")
    scenario = load_scenario(REPO / "disaster-recovery" / "drills" / "cluster.yaml")
    report = run_cluster_drill(scenario, kubectl=kubectl)
    assert report.error is None, report.to_markdown()
    assert report.passed, report.to_markdown()
