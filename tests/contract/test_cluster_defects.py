"""The cluster defects schemas cannot see (issue #15, 1-7): each guarded here.

Each test renders the real tree and asks the rule a cluster would apply: kube-apiserver's
validation of the revision Deployments, Velero's coverage and hooks, the OADP variant's
storage location, the weekly drill's scenario, the Tekton promote RBAC and the shared
ReadWriteOnce workspace. Every one of them failed on the tree before the fix.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bulut.manifests.cluster import Inventory, Source
from bulut.manifests.cluster.rules import RULES
from bulut.manifests.kube.objects import validate_object
from bulut.manifests.loading import kustomize_build

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "staging", "prod")
VELERO = REPO / "disaster-recovery" / "velero"
RUNBOOKS = REPO / "disaster-recovery" / "runbooks"


@functools.cache
def build(path: Path) -> Source:
    return Source(str(path.relative_to(REPO)), [i.document for i in kustomize_build(path)])


def inventory(*paths: Path) -> Inventory:
    return Inventory([build(path) for path in paths], root=REPO)


def broken(rule: str, *paths: Path) -> list[str]:
    check, _ = RULES[rule]
    return [str(problem) for problem in check(inventory(*paths))]


def overlays() -> list[Path]:
    return [REPO / "gitops" / "overlays" / name for name in OVERLAYS]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_api_server_accepts_every_revision_deployment_of_an_overlay(overlay: str) -> None:
    # 1. matchLabelKeys and labelSelector named the same key: every Deployment refused.
    refused = [
        f"{item.document['kind']}/{item.document['metadata']['name']}: {error}"
        for item in kustomize_build(REPO / "gitops" / "overlays" / overlay)
        for error in validate_object(item.document)
    ]
    assert refused == []


def test_the_spread_still_counts_pods_per_knative_service() -> None:
    spread = yaml.safe_load(
        (REPO / "gitops/components/high-availability/ksvc-topology.yaml").read_text()
    )["spec"]["template"]["spec"]["topologySpreadConstraints"]
    for constraint in spread:
        assert constraint["matchLabelKeys"] == ["serving.knative.dev/service"]
        keys = [e["key"] for e in constraint["labelSelector"]["matchExpressions"]]
        assert "serving.knative.dev/service" not in keys


def test_every_namespace_that_runs_functions_is_backed_up() -> None:
    # 2. The Schedule named [shop-dev, shop-staging, shop]: shop-prod was never backed up.
    assert broken("velero-covers-function-namespaces", *overlays(), VELERO) == []


def test_the_backup_hook_selects_pods_that_the_backup_keeps() -> None:
    # 3. pods were excluded (no hook, no file-system backup) and no pod had the hook label.
    assert broken("velero-hooks-select-backed-up-pods", *overlays(), VELERO) == []


def test_every_sqlite_function_pod_is_labelled_for_the_hook_and_keeps_its_data_in_a_volume() -> (
    None
):
    for item in kustomize_build(REPO / "gitops" / "overlays" / "prod"):
        document = item.document
        if document["kind"] != "ConfigMap" or "sqlite" not in str(document.get("data")):
            continue
        (service,) = [
            i.document
            for i in kustomize_build(REPO / "gitops" / "overlays" / "prod")
            if i.document["kind"] == "Service"
            and i.document["metadata"]["name"] == document["metadata"]["name"]
        ]
        template = service["spec"]["template"]
        assert template["metadata"]["labels"]["bulut.dev/backup-hook"] == "sqlite"
        mounts = template["spec"]["containers"][0]["volumeMounts"]
        assert {"name": "data", "mountPath": "/tmp"} in mounts


def test_the_oadp_variant_is_a_component_with_a_named_location_the_schedule_uses() -> None:
    # 4. The Schedule said `namespace: velero` and `storageLocation: default`; the DPA named
    #    no location `default`.
    oadp = REPO / "gitops" / "platform" / "oadp"
    assert broken("velero-storage-location-exists", oadp, REPO / "gitops/platform/velero") == []
    documents = build(oadp).documents
    assert {d["metadata"]["namespace"] for d in documents} == {"openshift-adp"}
    assert {d["kind"] for d in documents} == {"DataProtectionApplication", "Schedule"}
    component = yaml.safe_load((VELERO / "oadp" / "kustomization.yaml").read_text())
    assert component["kind"] == "Component"


@pytest.mark.parametrize(
    "runbook", ["restore-namespace.md", "fail-over-to-standby.md", "rotate-backup-credentials.md"]
)
def test_the_velero_runbooks_name_both_variants(runbook: str) -> None:
    text = (RUNBOOKS / runbook).read_text()
    assert "-n velero" in text
    assert "-n openshift-adp" in text


def _dr_drill() -> dict[str, Any]:
    (found,) = [
        d
        for d in build(REPO / "gitops/platform/argo-workflows").documents
        if d["kind"] == "CronWorkflow"
    ]
    return found


def test_the_weekly_drill_runs_the_cluster_scenario_that_says_so() -> None:
    # 5. The CronWorkflow defaulted to standard.yaml (a local scenario, namespace `drill`).
    parameters = {
        p["name"]: p.get("value")
        for p in _dr_drill()["spec"]["workflowSpec"]["arguments"]["parameters"]
    }
    scenario = (REPO / parameters["scenario"]).read_text()
    assert "CronWorkflow" in scenario  # the scenario that says the weekly run is its own
    sources = [*overlays(), VELERO, REPO / "gitops/platform/argo-workflows"]
    assert broken("cluster-drill-runs-a-cluster-scenario", *sources) == []
    assert broken("scheduled-workflow-files-exist", *sources) == []
    assert parameters["scenario"] in (RUNBOOKS / "restore-namespace.md").read_text()


def test_the_drill_restores_read_a_namespace_that_exists() -> None:
    # 5. restore-drill.yaml restored namespace `shop`, which no overlay deploys.
    restores = Source(
        "restore-drill.yaml", list(yaml.safe_load_all((VELERO / "restore-drill.yaml").read_text()))
    )
    found = RULES["velero-restore-targets-function-namespaces"][0](
        Inventory([*(build(p) for p in overlays()), restores], root=REPO)
    )
    assert [str(p) for p in found] == []


def test_tekton_promote_runs_as_an_account_that_may_read_applications() -> None:
    # 6. promote's `oc get applications -n openshift-gitops` ran with no ServiceAccount or RBAC.
    assert broken("pipeline-step-rbac", REPO / "gitops/platform/tekton") == []
    (pipeline,) = [
        d
        for d in build(REPO / "gitops/platform/tekton").documents
        if d["kind"] == "Pipeline" and d["metadata"]["name"] == "promote"
    ]
    assert pipeline["metadata"]["annotations"]["bulut.dev/service-account"] == "tekton-promote"


def test_every_file_the_documented_tkn_commands_name_exists() -> None:
    # 6. `volumeClaimTemplateFile=pvc.yaml` named a file that did not exist.
    text = (REPO / "pipelines" / "README.md").read_text()
    named = re.findall(r"volumeClaimTemplateFile=([\w./-]+)", text)
    assert named
    for path in named:
        claim = yaml.safe_load((REPO / path).read_text())
        assert claim["kind"] == "PersistentVolumeClaim"
    assert "-s tekton-promote" in text


def test_no_two_steps_that_may_run_at_once_share_the_readwriteonce_workspace() -> None:
    # 7. lint, unit-test and render-check ran in parallel on one ReadWriteOnce claim.
    assert (
        broken("rwo-workspace-not-shared-in-parallel", REPO / "gitops/platform/argo-workflows")
        == []
    )


def test_every_pipeline_step_holds_the_rbac_it_declares() -> None:
    sources = [REPO / "gitops/platform/argo-workflows", REPO / "gitops/platform/tekton"]
    assert broken("pipeline-step-rbac", *sources) == []


def _drill_rbac() -> list[dict[str, Any]]:
    return [
        d
        for d in build(REPO / "gitops/platform/argo-workflows").documents
        if str(d.get("apiVersion", "")).startswith("rbac.") and "dr-drill" in d["metadata"]["name"]
    ]


def test_the_drill_reads_no_namespace_cluster_wide_and_no_secret_outside_its_two() -> None:
    """Issue #15 review: the drill's only cluster-scoped grant is deleting its target."""
    cluster_rules = [r for d in _drill_rbac() if d["kind"] == "ClusterRole" for r in d["rules"]]
    assert cluster_rules == [
        {
            "apiGroups": [""],
            "resources": ["namespaces"],
            "resourceNames": ["shop-dev-drill"],
            "verbs": ["delete"],
        }
    ]
    secrets = {
        d["metadata"]["namespace"]
        for d in _drill_rbac()
        if d["kind"] == "Role" and any("secrets" in r["resources"] for r in d["rules"])
    }
    assert secrets == {"shop-dev"}  # restored with the namespace into shop-dev-drill


def test_the_drill_target_is_read_through_the_rbac_its_restore_copies() -> None:
    """Without the source's Role (the one the restore copies), the drill's reads of
    shop-dev-drill are not granted: the rule names them."""
    workflows = build(REPO / "gitops/platform/argo-workflows")
    without_source = Source(
        workflows.name,
        [d for d in workflows.documents if d["metadata"]["name"] != "dr-drill-source"],
    )
    check, _ = RULES["pipeline-step-rbac"]
    problems = [str(p) for p in check(Inventory([without_source], root=REPO))]
    assert any("in shop-dev-drill (restored from shop-dev)" in p for p in problems), problems
