"""gitops/argocd: the AppProject, the ApplicationSet and the Lua health checks."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

import pytest

from bulut.gitops.health import HealthCheck
from bulut.manifests.loading import kustomize_build

REPO = Path(__file__).resolve().parents[2]
GITOPS = REPO / "gitops"
LUA = (GITOPS / "argocd" / "health-check.lua").read_text()


@pytest.fixture(scope="module")
def argocd() -> dict[str, dict[str, Any]]:
    return {item.document["kind"]: item.document for item in kustomize_build(GITOPS / "argocd")}


def run_health(obj: dict[str, Any]) -> dict[str, str]:
    """Run the health script as Argo CD does (and as local GitOps does): one real Lua."""
    assessment = HealthCheck(LUA).assess(obj)
    return {"status": assessment.status.value, "message": assessment.message}


def broker(status: dict[str, Any] | None, generation: int = 1) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": "default", "generation": generation},
    }
    if status is not None:
        obj["status"] = status
    return obj


def ready(state: str, **extra: Any) -> dict[str, Any]:
    return {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": state, **extra}]}


def test_health_is_progressing_before_any_status() -> None:
    assert run_health(broker(None))["status"] == "Progressing"


def test_health_is_healthy_when_ready() -> None:
    assert run_health(broker(ready("True"))) == {"status": "Healthy", "message": "Ready"}


def test_health_is_degraded_with_the_reason_when_not_ready() -> None:
    result = run_health(broker(ready("False", reason="DeadLetterSinkResolveFailed", message="x")))
    assert result == {"status": "Degraded", "message": "DeadLetterSinkResolveFailed: x"}


def test_health_waits_while_ready_is_unknown() -> None:
    assert run_health(broker(ready("Unknown", message="reconciling")))["status"] == "Progressing"


def test_health_waits_for_the_controller_to_observe_the_latest_generation() -> None:
    result = run_health(broker(ready("True"), generation=2))
    assert result["status"] == "Progressing"
    assert "generation 2" in result["message"]


def test_argocd_cm_carries_the_check_for_every_eventing_kind(
    argocd: dict[str, dict[str, Any]],
) -> None:
    data = argocd["ConfigMap"]["data"]
    assert argocd["ConfigMap"]["metadata"]["name"] == "argocd-cm"
    assert argocd["ConfigMap"]["metadata"]["labels"]["app.kubernetes.io/part-of"] == "argocd"
    for key in (
        "eventing.knative.dev_Broker",
        "eventing.knative.dev_Trigger",
        "sources.knative.dev_PingSource",
        "sources.knative.dev_SinkBinding",
    ):
        assert data[f"resource.customizations.health.{key}"] == LUA


def test_the_applicationset_makes_one_application_per_overlay(
    argocd: dict[str, dict[str, Any]],
) -> None:
    spec = argocd["ApplicationSet"]["spec"]
    (generator,) = spec["generators"]
    (directory,) = generator["git"]["directories"]
    matched = sorted(
        path.relative_to(REPO).as_posix()
        for path in (GITOPS / "overlays").iterdir()
        if fnmatch.fnmatch(path.relative_to(REPO).as_posix(), directory["path"])
    )
    assert matched == ["gitops/overlays/dev", "gitops/overlays/prod", "gitops/overlays/staging"]
    template = spec["template"]["spec"]
    assert template["destination"]["namespace"] == "shop-{{.path.basename}}"
    assert template["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert template["project"] == argocd["AppProject"]["metadata"]["name"]


def test_the_project_admits_exactly_what_the_overlays_contain(
    argocd: dict[str, dict[str, Any]],
) -> None:
    project = argocd["AppProject"]["spec"]
    allowed = {(kind["group"], kind["kind"]) for kind in project["namespaceResourceWhitelist"]}
    used: set[tuple[str, str]] = set()
    for overlay in ("dev", "staging", "prod"):
        for item in kustomize_build(GITOPS / "overlays" / overlay):
            group = str(item.document["apiVersion"]).rpartition("/")[0]
            used.add((group, item.document["kind"]))
            namespace = item.document["metadata"]["namespace"]
            assert any(fnmatch.fnmatch(namespace, d["namespace"]) for d in project["destinations"])
    assert used == allowed
    assert project["clusterResourceWhitelist"] == []


def test_the_application_source_repo_is_one_the_project_allows(
    argocd: dict[str, dict[str, Any]],
) -> None:
    repo = argocd["ApplicationSet"]["spec"]["template"]["spec"]["source"]["repoURL"]
    assert repo in argocd["AppProject"]["spec"]["sourceRepos"]
