"""The cluster drill on a real cluster with Velero: backup, mapped restore, ksvc Ready,
probe, inventory comparison, clean-up (`bulut dr drill --cluster`). Plain Velero (namespace
``velero``, disaster-recovery/velero) and, where the cluster is OpenShift with OADP, the OADP
variant (namespace ``openshift-adp``, gitops/platform/oadp: the
DataProtectionApplication's BackupStorageLocation ``default``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulut.dr.drills.scenario import load_scenario
from bulut.dr.velero.drill import Kubectl, find_kubectl, run_cluster_drill
from bulut.manifests.loading import kustomize_build

from . import cluster

NO_CLUSTER = cluster.no_cluster_reason("Knative and Velero to run the disaster-recovery drill")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(NO_CLUSTER is not None, reason=str(NO_CLUSTER)),
    pytest.mark.timeout(1800),
]

REPO = Path(__file__).resolve().parents[2]
OADP = REPO / "gitops" / "platform" / "oadp"  # renders disaster-recovery/velero/oadp


def oadp_location() -> tuple[str, str]:
    """(namespace, BackupStorageLocation) the OADP variant renders (the DPA's location)."""
    documents = [item.document for item in kustomize_build(OADP)]
    (dpa,) = [d for d in documents if d["kind"] == "DataProtectionApplication"]
    name = dpa["spec"]["backupLocations"][0]["velero"].get("name") or "default"
    return dpa["metadata"]["namespace"], str(name)


def drill(velero_namespace: str, storage_location: str) -> None:
    scenario = load_scenario(REPO / "disaster-recovery" / "drills" / "cluster.yaml")
    report = run_cluster_drill(
        scenario,
        kubectl=Kubectl(find_kubectl()),
        velero_namespace=velero_namespace,
        storage_location=storage_location,
    )
    assert report.error is None, report.to_markdown()
    assert report.passed, report.to_markdown()


def test_the_cluster_drill_restores_the_namespace_and_the_service_answers() -> None:
    if cluster.kubectl("get", "crd", "backups.velero.io", check=False).returncode != 0:
        pytest.skip("Velero is not installed on this cluster (no backups.velero.io CRD)")
    if cluster.kubectl("get", "namespace", "velero", check=False).returncode != 0:
        pytest.skip("no plain Velero in namespace velero (OpenShift runs it through OADP)")
    drill("velero", "default")


def test_the_oadp_variant_drills_through_openshift_adp() -> None:
    if (
        cluster.kubectl(
            "api-resources", "--api-group=route.openshift.io", check=False
        ).stdout.count("routes")
        == 0
    ):
        pytest.skip("not an OpenShift cluster (no route.openshift.io API): OADP is OpenShift's")
    crd = "dataprotectionapplications.oadp.openshift.io"
    if cluster.kubectl("get", "crd", crd, check=False).returncode != 0:
        pytest.skip(f"OADP is not installed (no {crd} CRD): install the operator first")
    namespace, location = oadp_location()
    available = cluster.get_json("backupstoragelocations.velero.io", location, "-n", namespace)
    assert available.get("status", {}).get("phase") == "Available", available.get("status")
    drill(namespace, location)
